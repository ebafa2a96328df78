package workbench;

import static workbench.Support.createTopic;
import static workbench.Support.properties;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;

/**
 * The Java transactional producer against one broker. Usage: {@code Transactions BOOTSTRAP
 * PREFIX}. Commits a transaction with offsets sent along for a group, aborts one, then a second
 * producer on the same transactional id fences the first (whose commit must fail), and commits
 * its own. Prints what read_committed and read_uncommitted consumers read, the group's committed
 * offset and how the fenced producer failed, one JSON line each ("scenario": "transactions").
 * Last, the transactional id's state and epoch and the partition's producer epochs as Admin
 * describes them: with transaction version 2 (KIP-890) each end bumps the epoch, so they show
 * which version the producer spoke.
 */
public final class Transactions {
    private static final Duration POLL = Duration.ofMillis(100);

    private Transactions() {}

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String prefix = args[1];
        String topic = prefix + "-txn";
        String group = prefix + "-txn-group";
        try (Admin admin = Admin.create(properties(bootstrap))) {
            createTopic(admin, topic, 1, Map.of());
        }
        TopicPartition partition = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> producer = transactional(bootstrap, prefix + "-tx")) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "committed-0"));
            producer.send(new ProducerRecord<>(topic, 0, "k", "committed-1"));
            producer.sendOffsetsToTransaction(
                    Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(2, "in-txn")),
                    new ConsumerGroupMetadata(group));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "aborted-0"));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "fenced-0"));
            producer.flush();
            try (KafkaProducer<String, String> successor = transactional(bootstrap, prefix + "-tx")) {
                successor.initTransactions();
                successor.beginTransaction();
                successor.send(new ProducerRecord<>(topic, 0, "k", "successor-0"));
                successor.commitTransaction();
            }
            String fenced;
            try {
                producer.commitTransaction();
                fenced = "committed";
            } catch (ProducerFencedException e) {
                fenced = e.getClass().getSimpleName();
            }
            Json.emit("scenario", "transactions", "event", "fenced", "outcome", fenced);
        }
        for (String isolation : List.of("read_committed", "read_uncommitted")) {
            Json.emit("scenario", "transactions", "event", isolation, "values",
                    readAll(bootstrap, partition, isolation));
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap, "group.id", group)) {
            OffsetAndMetadata committed = consumer.committed(Set.of(partition)).get(partition);
            Json.emit("scenario", "transactions", "event", "committed",
                    "offset", committed.offset(), "metadata", committed.metadata());
        }
        try (Admin admin = Admin.create(properties(bootstrap))) {
            String transactionalId = prefix + "-tx";
            TransactionDescription described = admin.describeTransactions(List.of(transactionalId))
                    .description(transactionalId).get();
            List<Integer> epochs = new ArrayList<>();
            for (ProducerState producer : admin.describeProducers(List.of(partition))
                    .partitionResult(partition).get().activeProducers()) {
                epochs.add(producer.producerEpoch());
            }
            Json.emit("scenario", "transactions", "event", "described",
                    "state", described.state().toString(), "producer_epoch", described.producerEpoch(),
                    "partition_producer_epochs", epochs);
        }
    }

    static KafkaProducer<String, String> transactional(String bootstrap, String transactionalId) {
        return Clients.producer(bootstrap, "transactional.id", transactionalId);
    }

    /** Every value of `partition` up to the end a consumer of `isolation` may read. */
    static List<String> readAll(String bootstrap, TopicPartition partition, String isolation) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap, "isolation.level", isolation)) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            Support.waitFor(isolation + " reading to " + end, () -> {
                for (ConsumerRecord<String, String> record : consumer.poll(POLL)) {
                    values.add(record.value());
                }
                return consumer.position(partition) >= end;
            });
        }
        return values;
    }
}
