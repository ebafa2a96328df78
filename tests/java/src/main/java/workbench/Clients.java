package workbench;

import static workbench.Support.createTopic;
import static workbench.Support.properties;
import static workbench.Support.waitFor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java producer and consumer against one broker. Usage: {@code Clients BOOTSTRAP PREFIX
 * SCENARIO...} with scenarios {@code producer} (idempotent, acks=all, every codec, keys and
 * headers, read back), {@code consumer} (classic group protocol: manual and auto commit, seek,
 * pause/resume) and {@code cooperative} (two cooperative-sticky consumers, one joining and one
 * leaving). Topics and groups are named after PREFIX so runs on a shared broker never meet.
 * Prints one JSON line per observation, each with its "scenario"; a scenario that throws prints
 * an "event": "failed" line and the program exits 1 after the others have run.
 */
public final class Clients {
    private static final List<String> CODECS = List.of("none", "gzip", "snappy", "lz4", "zstd");
    private static final int RECORDS_PER_CODEC = 100;
    private static final Duration POLL = Duration.ofMillis(100);

    private Clients() {}

    public static void main(String[] args) {
        String bootstrap = args[0];
        String prefix = args[1];
        boolean failed = false;
        for (String scenario : Arrays.asList(args).subList(2, args.length)) {
            try {
                switch (scenario) {
                    case "producer" -> producer(bootstrap, prefix);
                    case "consumer" -> consumer(bootstrap, prefix);
                    case "cooperative" -> cooperative(bootstrap, prefix);
                    default -> throw new IllegalArgumentException("unknown scenario " + scenario);
                }
            } catch (Exception | AssertionError e) {
                failed = true;
                e.printStackTrace();
                Json.emit("scenario", scenario, "event", "failed", "error", Support.error(e));
            }
        }
        System.exit(failed ? 1 : 0);
    }

    static KafkaProducer<String, String> producer(String bootstrap, Object... keysAndValues) {
        Properties properties = properties(bootstrap, keysAndValues);
        properties.put("key.serializer", StringSerializer.class.getName());
        properties.put("value.serializer", StringSerializer.class.getName());
        return new KafkaProducer<>(properties);
    }

    /** A consumer that answers quickly: a short fetch wait, so seeks and closes do not wait
     * out a long poll. */
    static KafkaConsumer<String, String> consumer(String bootstrap, Object... keysAndValues) {
        Properties properties = properties(bootstrap, keysAndValues);
        properties.put("key.deserializer", StringDeserializer.class.getName());
        properties.put("value.deserializer", StringDeserializer.class.getName());
        properties.putIfAbsent("auto.offset.reset", "earliest");
        properties.putIfAbsent("fetch.max.wait.ms", "100");
        return new KafkaConsumer<>(properties);
    }

    /** A consumer in `group`, which uses the classic group protocol (JoinGroup, SyncGroup ...). */
    static KafkaConsumer<String, String> classic(String bootstrap, String group, Object... keysAndValues) {
        Object[] grouped = Arrays.copyOf(keysAndValues, keysAndValues.length + 4);
        System.arraycopy(new Object[] {"group.id", group, "group.protocol", "classic"}, 0, grouped, keysAndValues.length, 4);
        return consumer(bootstrap, grouped);
    }

    // ---- producer: idempotent, acks=all, every codec, keys and headers, then read back ----

    static void producer(String bootstrap, String prefix) throws Exception {
        try (Admin admin = Admin.create(properties(bootstrap))) {
            for (String codec : CODECS) {
                createTopic(admin, prefix + "-" + codec, 3, Map.of());
            }
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (String codec : CODECS) {
            String topic = prefix + "-" + codec;
            for (int p = 0; p < 3; p++) {
                partitions.add(new TopicPartition(topic, p));
            }
            try (KafkaProducer<String, String> producer = producer(bootstrap,
                    "enable.idempotence", true, "acks", "all", "compression.type", codec, "linger.ms", 20)) {
                List<ProducerRecord<String, String>> records = new ArrayList<>();
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                for (int i = 0; i < RECORDS_PER_CODEC; i++) {
                    ProducerRecord<String, String> record = codecRecord(topic, codec, i);
                    records.add(record);
                    sent.add(producer.send(record));
                }
                producer.flush();
                for (int i = 0; i < records.size(); i++) {
                    RecordMetadata metadata = sent.get(i).get();
                    ProducerRecord<String, String> record = records.get(i);
                    Json.emit("scenario", "producer", "event", "sent", "record", Support.record(topic,
                            metadata.partition(), metadata.offset(), record.key(), record.value(), record.headers()));
                }
            }
        }
        try (KafkaConsumer<String, String> consumer = consumer(bootstrap)) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            int[] read = {0};
            waitFor("every record read back", () -> {
                for (ConsumerRecord<String, String> record : consumer.poll(POLL)) {
                    Json.emit("scenario", "producer", "event", "consumed", "record", Support.record(record));
                    read[0]++;
                }
                return read[0] >= CODECS.size() * RECORDS_PER_CODEC;
            });
        }
    }

    /** Keyed records go where the key hashes; unkeyed ones name their partition, so where each
     * record lands does not depend on timing and two brokers can be compared record by record.
     * Headers: one on every record, a second on some, a null-valued one on a few. */
    static ProducerRecord<String, String> codecRecord(String topic, String codec, int i) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("i", Integer.toString(i).getBytes());
        if (i % 4 == 0) headers.add("trace", ("t-" + i).getBytes());
        if (i % 10 == 0) headers.add("empty", null);
        String value = codec + " record " + i + " " + "lorem ipsum dolor sit amet ".repeat(8);
        boolean keyed = i % 5 != 0;
        return new ProducerRecord<>(topic, keyed ? null : i % 3, keyed ? "key-" + i % 7 : null, value, headers);
    }

    // ---- consumer: classic group protocol, manual and auto commit, seek, pause/resume ----

    static void consumer(String bootstrap, String prefix) throws Exception {
        String topic = prefix + "-consumer";
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        try (Admin admin = Admin.create(properties(bootstrap))) {
            createTopic(admin, topic, 2, Map.of());
        }
        try (KafkaProducer<String, String> producer = producer(bootstrap, "acks", "all")) {
            for (int p = 0; p < 2; p++) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(topic, p, "k" + p + "-" + i, "v" + p + "-" + i));
                }
            }
            producer.flush();
        }
        String manual = prefix + "-manual";
        try (KafkaConsumer<String, String> consumer = classic(bootstrap, manual, "enable.auto.commit", false)) {
            consumer.subscribe(List.of(topic));
            readAtLeast(consumer, 20);
            consumer.commitSync(Map.of(p0, new OffsetAndMetadata(4, "manual-0"), p1, new OffsetAndMetadata(7, "manual-1")));
            Json.emit("scenario", "consumer", "event", "manual-commit", "committed", committed(consumer, Set.of(p0, p1)));
        }
        try (KafkaConsumer<String, String> consumer = classic(bootstrap, manual, "enable.auto.commit", false)) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> records = readAtLeast(consumer, 6 + 3);
            Json.emit("scenario", "consumer", "event", "resumed-after-manual-commit", "first", firstOffsets(records), "count", records.size());
        }

        String auto = prefix + "-auto";
        try (KafkaConsumer<String, String> consumer = classic(bootstrap, auto, "enable.auto.commit", true, "auto.commit.interval.ms", 100)) {
            consumer.subscribe(List.of(topic));
            readAtLeast(consumer, 20);
        }  // close() commits what was consumed
        try (KafkaConsumer<String, String> consumer = classic(bootstrap, auto)) {
            Json.emit("scenario", "consumer", "event", "auto-commit", "committed", committed(consumer, Set.of(p0, p1)));
        }

        try (KafkaConsumer<String, String> consumer = consumer(bootstrap)) {
            consumer.assign(List.of(p0));
            consumer.seek(p0, 5);
            Json.emit("scenario", "consumer", "event", "seek", "first", firstOffsets(readAtLeast(consumer, 1)));
            consumer.seekToBeginning(List.of(p0));
            long beginning = consumer.position(p0);
            Json.emit("scenario", "consumer", "event", "seekToBeginning", "position", beginning,
                    "first", firstOffsets(readAtLeast(consumer, 1)));
            consumer.seekToEnd(List.of(p0));
            Json.emit("scenario", "consumer", "event", "seekToEnd", "position", consumer.position(p0));
            Json.emit("scenario", "consumer", "event", "beginning-and-end-offsets",
                    "beginning", byPartition(consumer.beginningOffsets(List.of(p0, p1))),
                    "end", byPartition(consumer.endOffsets(List.of(p0, p1))));
            Map<TopicPartition, OffsetAndTimestamp> times = consumer.offsetsForTimes(
                    Map.of(p0, 0L, p1, Long.MAX_VALUE / 2));
            Json.emit("scenario", "consumer", "event", "offsetsForTimes",
                    "from-zero", times.get(p0) == null ? null : times.get(p0).offset(),
                    "from-the-future", times.get(p1) == null ? null : times.get(p1).offset());
        }

        try (KafkaConsumer<String, String> consumer = consumer(bootstrap)) {
            consumer.assign(List.of(p0, p1));
            consumer.seekToBeginning(List.of(p0, p1));
            consumer.pause(List.of(p0));
            Map<Integer, Integer> whilePaused = new TreeMap<>(Map.of(0, 0, 1, 0));
            waitFor("the unpaused partition's records", () -> {
                count(consumer.poll(POLL), whilePaused);
                return whilePaused.get(1) >= 10;
            });
            for (int i = 0; i < 3; i++) {  // the paused partition stays quiet a while longer
                count(consumer.poll(POLL), whilePaused);
            }
            Json.emit("scenario", "consumer", "event", "paused", "paused", partitions(consumer.paused()), "read", whilePaused);
            consumer.resume(List.of(p0));
            Map<Integer, Integer> afterResume = new TreeMap<>(Map.of(0, 0, 1, 0));
            waitFor("the resumed partition's records", () -> {
                count(consumer.poll(POLL), afterResume);
                return afterResume.get(0) >= 10;
            });
            Json.emit("scenario", "consumer", "event", "resumed", "paused", partitions(consumer.paused()), "read", afterResume);
        }
    }

    static List<ConsumerRecord<String, String>> readAtLeast(KafkaConsumer<String, String> consumer, int count) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        waitFor(count + " records", () -> {
            consumer.poll(POLL).forEach(records::add);
            return records.size() >= count;
        });
        return records;
    }

    static Map<Integer, Object> committed(KafkaConsumer<String, String> consumer, Set<TopicPartition> partitions) {
        Map<Integer, Object> committed = new TreeMap<>();
        consumer.committed(partitions).forEach((partition, offset) -> committed.put(partition.partition(),
                offset == null ? null : Json.object("offset", offset.offset(), "metadata", offset.metadata())));
        return committed;
    }

    static Map<Integer, Long> firstOffsets(List<ConsumerRecord<String, String>> records) {
        Map<Integer, Long> first = new TreeMap<>();
        records.forEach(record -> first.putIfAbsent(record.partition(), record.offset()));
        return first;
    }

    static Map<Integer, Long> byPartition(Map<TopicPartition, Long> offsets) {
        Map<Integer, Long> result = new TreeMap<>();
        offsets.forEach((partition, offset) -> result.put(partition.partition(), offset));
        return result;
    }

    static List<Integer> partitions(Collection<TopicPartition> partitions) {
        return partitions.stream().map(TopicPartition::partition).sorted().toList();
    }

    static void count(ConsumerRecords<String, String> records, Map<Integer, Integer> counts) {
        records.forEach(record -> counts.merge(record.partition(), 1, Integer::sum));
    }

    // ---- cooperative: two cooperative-sticky consumers, one joining and one leaving ----

    private static final AtomicLong SEQUENCE = new AtomicLong();

    /** One line of the cooperative scenario, numbered in the order things happened across the
     * members' threads, so pytest can replay who owned which partition when. */
    static synchronized void event(String member, String event, Object... keysAndValues) {
        Object[] line = new Object[8 + keysAndValues.length];
        Object[] head = {"scenario", "cooperative", "seq", SEQUENCE.incrementAndGet(), "member", member, "event", event};
        System.arraycopy(head, 0, line, 0, head.length);
        System.arraycopy(keysAndValues, 0, line, head.length, keysAndValues.length);
        Json.emit(line);
    }

    /** A group member polling in its own thread: commits after each poll and, as the rebalance
     * listener, before giving partitions away, so a partition's next owner starts where it stopped. */
    static final class Member implements Runnable, ConsumerRebalanceListener {
        final String name;
        final String topic;
        final KafkaConsumer<String, String> consumer;
        final Set<Integer> owned = ConcurrentHashMap.newKeySet();
        final Map<String, Integer> consumed;
        final Thread thread;
        volatile boolean stopping;
        volatile Throwable failure;

        Member(String name, String bootstrap, String group, String topic, Map<String, Integer> consumed) {
            this.name = name;
            this.topic = topic;
            this.consumed = consumed;
            this.consumer = classic(bootstrap, group,
                    "partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
                    "enable.auto.commit", false, "heartbeat.interval.ms", 200, "session.timeout.ms", 10000,
                    "client.id", name);
            this.thread = new Thread(this, name);
            thread.start();
        }

        @Override
        public void run() {
            try (consumer) {
                consumer.subscribe(List.of(topic), this);
                while (!stopping) {
                    ConsumerRecords<String, String> records = consumer.poll(POLL);
                    for (TopicPartition partition : records.partitions()) {
                        List<Long> offsets = records.records(partition).stream().map(ConsumerRecord::offset).toList();
                        event(name, "consumed", "partition", partition.partition(), "offsets", offsets);
                        offsets.forEach(offset -> consumed.merge(partition.partition() + ":" + offset, 1, Integer::sum));
                    }
                    if (!records.isEmpty()) consumer.commitSync();
                }
            } catch (Throwable e) {
                failure = e;
                e.printStackTrace();
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            owned.addAll(partitions(partitions));
            event(name, "assigned", "partitions", partitions(partitions));
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            consumer.commitSync();
            owned.removeAll(partitions(partitions));
            event(name, "revoked", "partitions", partitions(partitions));
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            owned.removeAll(partitions(partitions));
            event(name, "lost", "partitions", partitions(partitions));
        }

        void stop() throws InterruptedException {
            stopping = true;
            thread.join(Support.TIMEOUT.toMillis());
            if (thread.isAlive()) throw new IllegalStateException(name + " did not stop");
            if (failure != null) throw new IllegalStateException(name + " failed", failure);
        }
    }

    static void cooperative(String bootstrap, String prefix) throws Exception {
        String topic = prefix + "-cooperative";
        String group = prefix + "-cooperative";
        int partitions = 6;
        int perPhase = 10;
        try (Admin admin = Admin.create(properties(bootstrap))) {
            createTopic(admin, topic, partitions, Map.of());
        }
        Map<String, Integer> consumed = new ConcurrentHashMap<>();
        try (KafkaProducer<String, String> producer = producer(bootstrap, "acks", "all")) {
            Runnable producePhase = () -> {
                for (int p = 0; p < partitions; p++) {
                    for (int i = 0; i < perPhase; i++) {
                        producer.send(new ProducerRecord<>(topic, p, null, "record " + i));
                    }
                }
                producer.flush();
            };
            producePhase.run();
            Member a = new Member("a", bootstrap, group, topic, consumed);
            waitFor("a to own every partition and read them", () -> a.owned.size() == partitions && consumed.size() == partitions * perPhase);

            Member b = new Member("b", bootstrap, group, topic, consumed);
            waitFor("a and b to own half the partitions each",
                    () -> a.owned.size() == partitions / 2 && b.owned.size() == partitions / 2);
            producePhase.run();
            waitFor("the second batch read", () -> consumed.size() == 2 * partitions * perPhase);

            a.stop();
            waitFor("b to own every partition", () -> b.owned.size() == partitions);
            producePhase.run();
            waitFor("the third batch read", () -> consumed.size() == 3 * partitions * perPhase);
            b.stop();
        }
        Json.emit("scenario", "cooperative", "event", "produced", "per-partition", 3 * perPhase, "partitions", partitions);
    }
}
