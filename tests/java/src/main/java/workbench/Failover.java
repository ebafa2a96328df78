package workbench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The Java client in tests/failover.py's scenario. Usage: {@code Failover BOOTSTRAP TOPIC}. An
 * idempotent acks=all producer sends numbered records to partition 0 every 5 ms while a consumer
 * in the group TOPIC-readers reads them; pytest kills the partition's leader meanwhile. Prints one
 * JSON line per observation ("sent", "acked", "consumed" with its offset, "delivery-error" with
 * the exception's class), which pytest timestamps as they arrive. Reads its orders on stdin:
 * "stop" stops producing (the producer flushes, then prints "flushed"), "close" (or the end of
 * stdin) closes the consumer and ends the program.
 */
public final class Failover {
    private static final Duration POLL = Duration.ofMillis(100);
    private static final long SEND_INTERVAL_MS = 5;

    private Failover() {}

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch close = new CountDownLatch(1);
        Thread orders = new Thread(() -> readOrders(stop, close), "orders");
        orders.setDaemon(true);
        orders.start();
        Thread consuming = new Thread(() -> consume(bootstrap, topic, close), "consumer");
        consuming.start();
        produce(bootstrap, topic, stop);
        consuming.join();
    }

    private static void readOrders(CountDownLatch stop, CountDownLatch close) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.equals("stop")) {
                    stop.countDown();
                } else if (line.equals("close")) {
                    break;
                }
            }
        } catch (IOException e) {
            Json.emit("event", "failed", "error", Support.error(e));
        }
        stop.countDown();
        close.countDown();
    }

    private static void produce(String bootstrap, String topic, CountDownLatch stop) throws InterruptedException {
        try (KafkaProducer<String, String> producer = Clients.producer(
                bootstrap,
                "acks", "all",
                "enable.idempotence", true,
                "linger.ms", 5,
                "delivery.timeout.ms", 120_000)) {
            for (long number = 0; stop.getCount() > 0; number++) {
                String value = Long.toString(number);
                Json.emit("event", "sent", "number", number);
                producer.send(new ProducerRecord<>(topic, 0, null, value), (metadata, error) -> {
                    if (error == null) {
                        Json.emit("event", "acked", "number", Long.parseLong(value));
                    } else {
                        Json.emit("event", "delivery-error", "error", error.getClass().getSimpleName());
                    }
                });
                Thread.sleep(SEND_INTERVAL_MS);
            }
            producer.flush();
        }
        Json.emit("event", "flushed");
    }

    private static void consume(String bootstrap, String topic, CountDownLatch close) {
        try (KafkaConsumer<String, String> consumer = Clients.classic(bootstrap, topic + "-readers")) {
            consumer.subscribe(List.of(topic));
            while (close.getCount() > 0) {
                for (ConsumerRecord<String, String> record : consumer.poll(POLL)) {
                    Json.emit("event", "consumed", "number", Long.parseLong(record.value()), "offset", record.offset());
                }
            }
        }
    }
}
