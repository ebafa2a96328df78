package workbench;

import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka Streams application with processing.guarantee=exactly_once_v2, run until it is killed:
 * for each record of INPUT it writes "COUNT VALUE" to OUTPUT under the same key, COUNT being how
 * many records of that key it has counted so far (a state store backed by a changelog topic).
 * A record processed twice or lost changes every later count, so the output shows exactly once.
 * Usage: {@code RunningCount BOOTSTRAP APPLICATION INPUT OUTPUT STATE_DIR DELAY_MS}. DELAY_MS
 * slows each record down, so a test can kill the JVM while a transaction is open; the program
 * prints {"event": "running"} each time Streams reaches RUNNING.
 */
public final class RunningCount {
    private RunningCount() {}

    public static void main(String[] args) throws InterruptedException {
        String bootstrap = args[0];
        long delay = Long.parseLong(args[5]);
        KafkaStreams streams = new KafkaStreams(topology(args[2], args[3], delay),
                streamsConfig(bootstrap, args[1], args[4]));
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) Json.emit("event", "running");
        });
        streams.start();
        new CountDownLatch(1).await();
    }

    static Topology topology(String input, String output, long delay) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .peek((key, value) -> Support.sleep(delay))
                .groupByKey()
                .aggregate(() -> "0", (key, value, counted) -> (count(counted) + 1) + " " + value,
                        Materialized.with(Serdes.String(), Serdes.String()))
                .toStream()
                .to(output, Produced.with(Serdes.String(), Serdes.String()));
        return builder.build();
    }

    static long count(String counted) {
        return Long.parseLong(counted.split(" ", 2)[0]);
    }

    /** WordCount's configuration with exactly_once_v2, and a crashed instance's group member
     * soon gone, so the restarted one gets its tasks in seconds, not session.timeout.ms's 45. */
    static Properties streamsConfig(String bootstrap, String application, String stateDir) {
        Properties config = WordCount.streamsConfig(bootstrap, application, stateDir);
        config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        // Transactions long enough to be open most of the time the test looks.
        config.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "1000");
        config.put(StreamsConfig.consumerPrefix("session.timeout.ms"), "6000");
        config.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), "1000");
        return config;
    }
}
