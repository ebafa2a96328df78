package workbench;

import static workbench.Support.createTopic;
import static workbench.Support.properties;
import static workbench.Support.waitFor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Kafka Streams' word count against one broker: lines in, a groupBy that goes through a
 * repartition topic, a count in a state store backed by a changelog topic, counts out, with
 * processing.guarantee=at_least_once. Usage: {@code WordCount BOOTSTRAP PREFIX STATE_DIR}.
 * Writes the input itself, runs the application until every word's count on the output topic
 * is the count of the input, then prints, as JSON lines: the input lines ("input"), every count
 * the output topic holds for each word ("counts", in offset order), and the internal topics
 * Streams created with their partitions and cleanup.policy ("internal-topic").
 */
public final class WordCount {
    private static final int PARTITIONS = 3;
    private static final List<String> LINES = List.of(
            "all streams lead to kafka",
            "hello kafka streams",
            "join kafka summit",
            "the quick brown fox jumps over the lazy dog",
            "kafka streams counts words",
            "streams of words flow into kafka",
            "the dog barks at the fox",
            "count the words count the lines");
    private static final int ROUNDS = 5;

    private WordCount() {}

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String prefix = args[1];
        String input = prefix + "-lines";
        String output = prefix + "-counts";
        String application = prefix + "-wordcount";
        try (Admin admin = Admin.create(properties(bootstrap))) {
            createTopic(admin, input, PARTITIONS, Map.of());
            createTopic(admin, output, PARTITIONS, Map.of());
            Map<String, Long> expected = new TreeMap<>();
            try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, "acks", "all")) {
                for (int round = 0; round < ROUNDS; round++) {
                    for (int i = 0; i < LINES.size(); i++) {
                        producer.send(new ProducerRecord<>(input, i % PARTITIONS, null, LINES.get(i)));
                        Json.emit("event", "input", "line", LINES.get(i));
                        words(LINES.get(i)).forEach(word -> expected.merge(word, 1L, Long::sum));
                    }
                }
            }
            try (KafkaStreams streams = new KafkaStreams(topology(input, output), streamsConfig(bootstrap, application, args[2]))) {
                streams.start();
                Map<String, List<Long>> counts = readCounts(bootstrap, output, expected);
                streams.close(Duration.ofSeconds(30));
                counts.forEach((word, seen) -> Json.emit("event", "counts", "word", word, "counts", seen));
            }
            internalTopics(admin, application);
        }
        System.exit(0);
    }

    static List<String> words(String line) {
        return Arrays.asList(line.toLowerCase(Locale.ROOT).split("\\W+"));
    }

    static org.apache.kafka.streams.Topology topology(String input, String output) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .flatMapValues(WordCount::words)
                .groupBy((key, word) -> word, Grouped.with("words", Serdes.String(), Serdes.String()))
                .count(Materialized.as("word-counts"))
                .toStream()
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build();
    }

    static Properties streamsConfig(String bootstrap, String application, String stateDir) {
        Properties config = properties(bootstrap,
                StreamsConfig.APPLICATION_ID_CONFIG, application,
                StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE,
                StreamsConfig.STATE_DIR_CONFIG, stateDir,
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100,
                // Every update reaches the output topic, so each word's counts are 1, 2, ... n.
                StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0,
                StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        return config;
    }

    /** Every count the output topic holds per word, once the last one of each word is the
     * expected count. */
    static Map<String, List<Long>> readCounts(String bootstrap, String output, Map<String, Long> expected) {
        Properties config = properties(bootstrap);
        config.put("key.deserializer", StringDeserializer.class.getName());
        config.put("value.deserializer", LongDeserializer.class.getName());
        Map<String, List<Long>> counts = new TreeMap<>();
        try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) partitions.add(new TopicPartition(output, p));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            waitFor("the expected counts on " + output, () -> {
                for (ConsumerRecord<String, Long> record : consumer.poll(Duration.ofMillis(200))) {
                    counts.computeIfAbsent(record.key(), word -> new ArrayList<>()).add(record.value());
                }
                return expected.entrySet().stream().allMatch(entry -> {
                    List<Long> seen = counts.get(entry.getKey());
                    return seen != null && seen.get(seen.size() - 1).equals(entry.getValue());
                });
            });
        }
        return counts;
    }

    static void internalTopics(Admin admin, String application) throws Exception {
        List<String> names = Support.get(admin.listTopics().names()).stream()
                .filter(name -> name.startsWith(application)).sorted().toList();
        Map<String, TopicDescription> described = Support.get(admin.describeTopics(names).allTopicNames());
        Map<ConfigResource, Config> configs = Support.get(admin.describeConfigs(names.stream()
                .map(name -> new ConfigResource(ConfigResource.Type.TOPIC, name)).toList()).all());
        for (String name : names) {
            Json.emit("event", "internal-topic",
                    "name", name,
                    "partitions", described.get(name).partitions().size(),
                    "cleanup.policy", configs.get(new ConfigResource(ConfigResource.Type.TOPIC, name)).get("cleanup.policy").value());
        }
    }
}
