package workbench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/** What the programs share: client properties, bounded waits, topics, errors and records as JSON. */
final class Support {
    /** The bound on every wait: generous, a loaded 2-core CI machine runs several JVMs. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Support() {}

    static Properties properties(String bootstrap, Object... keysAndValues) {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", bootstrap);
        for (int i = 0; i < keysAndValues.length; i += 2) {
            properties.put(keysAndValues[i], String.valueOf(keysAndValues[i + 1]));
        }
        return properties;
    }

    /** Polls `condition` until it holds; fails naming `what` after TIMEOUT. */
    static void waitFor(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + TIMEOUT + " waiting for " + what);
            }
            sleep(20);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static <T> T get(KafkaFuture<T> future) throws ExecutionException {
        try {
            return future.get(TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    static void createTopic(Admin admin, String name, int partitions, Map<String, String> configs)
            throws ExecutionException {
        get(admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all());
    }

    /** An error as the programs print it: the exception's class (unwrapped) and message. */
    static Map<String, Object> error(Throwable thrown) {
        Throwable cause = thrown instanceof ExecutionException && thrown.getCause() != null ? thrown.getCause() : thrown;
        return Json.object("error", cause.getClass().getSimpleName(), "message", cause.getMessage());
    }

    static Map<String, Object> record(ConsumerRecord<String, String> record) {
        return record(record.topic(), record.partition(), record.offset(), record.key(), record.value(), record.headers());
    }

    /** A record as the programs print it, sent or consumed alike: headers as [key, value] pairs. */
    static Map<String, Object> record(String topic, int partition, long offset, String key, String value, Headers headers) {
        List<List<String>> pairs = new ArrayList<>();
        for (Header header : headers) {
            pairs.add(Arrays.asList(header.key(), header.value() == null ? null : new String(header.value())));
        }
        return Json.object(
                "topic", topic,
                "partition", partition,
                "offset", offset,
                "key", key,
                "value", value,
                "headers", pairs);
    }
}
