package workbench;

import static workbench.Support.get;
import static workbench.Support.properties;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.CreatePartitionsOptions;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.DescribeReplicaLogDirsResult;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ElectLeadersResult;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.TopicPartitionReplica;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;

/**
 * One sequence of AdminClient calls, the same against localbroker and Apache Kafka, covering every
 * Admin method whose API localbroker advertises, happy paths and error paths. Usage:
 * {@code AdminCalls BOOTSTRAP PREFIX}. Prints one JSON line per call: {"step": ..., "result": ...}
 * or {"step": ..., "error": {"error": exception class, "message": ...}}; per-item results (one per
 * topic, partition, group) are maps of item to result or error. Ids, hosts, paths and sizes are
 * printed as they are; pytest normalises them in one place before comparing the two brokers.
 *
 * <p>Not called: alterConfigs (the AlterConfigs API; Kafka 4.0 removed the method from Admin),
 * describeProducers, fenceProducers and the transaction methods (DescribeProducers and the
 * transaction coordinator are not in localbroker yet), and methods whose APIs it does not
 * advertise (ACLs, quotas, SCRAM, reassignments, KIP-848, share and streams groups).
 */
public final class AdminCalls {
    /** A topic id no broker has: fixed, so both brokers' error messages name the same id. */
    private static final Uuid UNKNOWN_TOPIC_ID = new Uuid(0x5eed, 0x5eed);
    private final Admin admin;
    private final String bootstrap;
    private final String prefix;

    private AdminCalls(Admin admin, String bootstrap, String prefix) {
        this.admin = admin;
        this.bootstrap = bootstrap;
        this.prefix = prefix;
    }

    public static void main(String[] args) throws Exception {
        try (Admin admin = Admin.create(properties(args[0], "client.id", "admin-calls"))) {
            new AdminCalls(admin, args[0], args[1]).run();
        }
        System.exit(0);
    }

    /** Runs one call and prints its result, or the error it ended with. */
    static void step(String name, Callable<Object> call) {
        try {
            Json.emit("step", name, "result", call.call());
        } catch (Exception e) {
            Json.emit("step", name, "error", Support.error(e));
        }
    }

    /** Per-item futures as one map: each item's result, or its error. */
    static <K, V> Map<String, Object> each(Map<K, KafkaFuture<V>> futures, java.util.function.Function<V, Object> describe) {
        Map<String, Object> results = new TreeMap<>();
        futures.forEach((item, future) -> {
            Object result;
            try {
                result = describe.apply(get(future));
            } catch (ExecutionException e) {
                result = Support.error(e);
            }
            results.put(String.valueOf(item), result);
        });
        return results;
    }

    private void run() throws Exception {
        String a = prefix + "-a";
        String b = prefix + "-b";
        TopicPartition b0 = new TopicPartition(b, 0);

        step("describeCluster", () -> {
            var cluster = admin.describeCluster(new DescribeClusterOptions().includeAuthorizedOperations(true));
            return Json.object(
                    "clusterId", get(cluster.clusterId()),
                    "controller", get(cluster.controller()).id(),
                    "nodes", get(cluster.nodes()).stream().map(AdminCalls::node).toList(),
                    "authorizedOperations", operations(get(cluster.authorizedOperations())));
        });
        step("describeFeatures", () -> {
            var features = get(admin.describeFeatures().featureMetadata());
            Map<String, Object> supported = new TreeMap<>();
            features.supportedFeatures().forEach((name, range) -> supported.put(name, List.of(range.minVersion(), range.maxVersion())));
            Map<String, Object> finalized = new TreeMap<>();
            features.finalizedFeatures().forEach((name, range) -> finalized.put(name, List.of(range.minVersionLevel(), range.maxVersionLevel())));
            return Json.object("supported", supported, "finalized", finalized);
        });

        // ---- topics ----
        step("createTopics validateOnly", () -> created(admin.createTopics(
                List.of(new NewTopic(a, 3, (short) 1)), new CreateTopicsOptions().validateOnly(true))));
        step("listTopics after validateOnly", () -> ourTopics(false));
        step("createTopics", () -> created(admin.createTopics(List.of(
                new NewTopic(a, 3, (short) 1).configs(Map.of("retention.ms", "3600000")),
                new NewTopic(b, 1, (short) 1)))));
        awaitPartitions(a, 3);
        awaitPartitions(b, 1);
        step("createTopics errors", () -> created(admin.createTopics(List.of(
                new NewTopic(a, 3, (short) 1),
                new NewTopic(prefix + "-zero", 0, (short) 1),
                new NewTopic(prefix + "-rf", 1, (short) 3),
                new NewTopic(prefix + "-bad-value", 1, (short) 1).configs(Map.of("retention.ms", "soon")),
                new NewTopic(prefix + "-unknown-config", 1, (short) 1).configs(Map.of("no.such.config", "1")),
                new NewTopic(prefix + "-bad/name", 1, (short) 1)))));
        step("listTopics", () -> ourTopics(false));
        step("listTopics listInternal", () -> ourTopics(true));
        step("describeTopics", () -> described(admin.describeTopics(
                TopicCollection.ofTopicNames(List.of(a, b, prefix + "-missing")),
                new DescribeTopicsOptions().includeAuthorizedOperations(true)).topicNameValues()));
        Uuid bId = get(admin.describeTopics(List.of(b)).allTopicNames()).get(b).topicId();
        step("describeTopics by id", () -> described(admin.describeTopics(
                TopicCollection.ofTopicIds(List.of(bId, UNKNOWN_TOPIC_ID))).topicIdValues()));

        // ---- configs ----
        ConfigResource topicA = new ConfigResource(ConfigResource.Type.TOPIC, a);
        step("describeConfigs topic", () -> configs(List.of(topicA), true));
        step("describeConfigs errors", () -> configs(List.of(
                new ConfigResource(ConfigResource.Type.TOPIC, prefix + "-missing")), false));
        step("incrementalAlterConfigs", () -> each(admin.incrementalAlterConfigs(Map.of(topicA, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("max.message.bytes", "2000000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND),
                new AlterConfigOp(new ConfigEntry("segment.ms", null), AlterConfigOp.OpType.DELETE)))).values(), done -> "ok"));
        awaitConfig(topicA, "retention.ms", "7200000");
        step("describeConfigs after incrementalAlterConfigs", () -> configs(List.of(topicA), false));
        step("incrementalAlterConfigs subtract and delete", () -> each(admin.incrementalAlterConfigs(Map.of(topicA, List.of(
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.SUBTRACT),
                new AlterConfigOp(new ConfigEntry("max.message.bytes", null), AlterConfigOp.OpType.DELETE)))).values(), done -> "ok"));
        awaitConfig(topicA, "cleanup.policy", "compact");
        step("describeConfigs after subtract", () -> configs(List.of(topicA), false));
        step("incrementalAlterConfigs errors", () -> each(admin.incrementalAlterConfigs(Map.of(
                new ConfigResource(ConfigResource.Type.TOPIC, b), List.of(
                        new AlterConfigOp(new ConfigEntry("retention.ms", "soon"), AlterConfigOp.OpType.SET)),
                new ConfigResource(ConfigResource.Type.TOPIC, prefix + "-c"), List.of(
                        new AlterConfigOp(new ConfigEntry("retention.ms", "1"), AlterConfigOp.OpType.SET)),
                topicA, List.of(
                        new AlterConfigOp(new ConfigEntry("no.such.config", "1"), AlterConfigOp.OpType.SET)))).values(), done -> "ok"));

        // ---- broker configs: per broker and cluster-wide, dynamic over static over default ----
        int node = get(admin.describeCluster().nodes()).iterator().next().id();
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(node));
        ConfigResource cluster = new ConfigResource(ConfigResource.Type.BROKER, "");
        step("describeConfigs broker", () -> brokerConfigs(broker));
        step("incrementalAlterConfigs broker and cluster", () -> each(admin.incrementalAlterConfigs(Map.of(
                broker, List.of(new AlterConfigOp(new ConfigEntry("message.max.bytes", "2000000"), AlterConfigOp.OpType.SET)),
                cluster, List.of(new AlterConfigOp(new ConfigEntry("log.retention.ms", "86400000"), AlterConfigOp.OpType.SET))))
                .values(), done -> "ok"));
        awaitConfig(broker, "log.retention.ms", "86400000");
        step("describeConfigs broker after incrementalAlterConfigs", () -> brokerConfigs(broker));
        step("describeConfigs topic under a cluster-wide default", () -> configs(List.of(topicA), false));
        step("incrementalAlterConfigs broker errors", () -> each(admin.incrementalAlterConfigs(Map.of(
                broker, List.of(new AlterConfigOp(new ConfigEntry("log.dirs", "/elsewhere"), AlterConfigOp.OpType.SET)),
                cluster, List.of(new AlterConfigOp(new ConfigEntry("log.retention.ms", "soon"), AlterConfigOp.OpType.SET))))
                .values(), done -> "ok"));
        step("incrementalAlterConfigs broker custom config", () -> each(admin.incrementalAlterConfigs(Map.of(
                broker, List.of(new AlterConfigOp(new ConfigEntry("custom.plugin.setting", "1"), AlterConfigOp.OpType.SET))))
                .values(), done -> "ok"));
        step("incrementalAlterConfigs broker custom config delete", () -> each(admin.incrementalAlterConfigs(Map.of(
                broker, List.of(new AlterConfigOp(new ConfigEntry("custom.plugin.setting", null), AlterConfigOp.OpType.DELETE))))
                .values(), done -> "ok"));
        step("incrementalAlterConfigs broker and cluster delete", () -> each(admin.incrementalAlterConfigs(Map.of(
                broker, List.of(new AlterConfigOp(new ConfigEntry("message.max.bytes", null), AlterConfigOp.OpType.DELETE)),
                cluster, List.of(new AlterConfigOp(new ConfigEntry("log.retention.ms", null), AlterConfigOp.OpType.DELETE))))
                .values(), done -> "ok"));
        awaitConfig(broker, "log.retention.ms", null);
        step("describeConfigs broker after delete", () -> brokerConfigs(broker));

        // ---- partitions ----
        step("createPartitions validateOnly", () -> each(admin.createPartitions(
                Map.of(a, NewPartitions.increaseTo(6)), new CreatePartitionsOptions().validateOnly(true)).values(), done -> "ok"));
        step("createPartitions", () -> each(admin.createPartitions(Map.of(a, NewPartitions.increaseTo(5))).values(), done -> "ok"));
        awaitPartitions(a, 5);
        step("createPartitions errors", () -> each(admin.createPartitions(Map.of(
                a, NewPartitions.increaseTo(4),
                b, NewPartitions.increaseTo(1),
                prefix + "-missing", NewPartitions.increaseTo(2))).values(), done -> "ok"));
        step("describeTopics after createPartitions", () -> described(admin.describeTopics(List.of(a)).topicNameValues()));
        for (ElectionType type : ElectionType.values()) {
            step("electLeaders " + type, () -> elections(admin.electLeaders(type, Set.of(
                    new TopicPartition(a, 0), new TopicPartition(a, 9), new TopicPartition(prefix + "-missing", 0)))));
        }

        // ---- records and offsets ----
        long base = 1_700_000_000_000L;
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, "acks", "all", "linger.ms", 0)) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(b, 0, base + 1000L * i, "k" + i, "v" + i)).get();
            }
        }
        TopicPartition a4 = new TopicPartition(a, 4);
        step("listOffsets", () -> offsets(Map.of(
                "earliest", OffsetSpec.earliest(),
                "latest", OffsetSpec.latest(),
                "maxTimestamp", OffsetSpec.maxTimestamp(),
                "forTimestamp", OffsetSpec.forTimestamp(base + 3500),
                "forTimestamp future", OffsetSpec.forTimestamp(base + 100_000),
                "earliestLocal", OffsetSpec.earliestLocal(),
                "latestTiered", OffsetSpec.latestTiered()), List.of(b0, a4), IsolationLevel.READ_UNCOMMITTED));
        step("listOffsets read_committed", () -> offsets(Map.of("latest", OffsetSpec.latest()), List.of(b0), IsolationLevel.READ_COMMITTED));
        step("deleteRecords", () -> each(admin.deleteRecords(Map.of(b0, RecordsToDelete.beforeOffset(4))).lowWatermarks(),
                deleted -> deleted.lowWatermark()));
        step("listOffsets after deleteRecords", () -> offsets(Map.of("earliest", OffsetSpec.earliest()), List.of(b0), IsolationLevel.READ_UNCOMMITTED));
        step("deleteRecords beyond the high watermark", () -> each(admin.deleteRecords(
                Map.of(b0, RecordsToDelete.beforeOffset(100))).lowWatermarks(), deleted -> deleted.lowWatermark()));

        // ---- log dirs ----
        step("describeLogDirs", () -> {
            Map<String, Object> dirs = new TreeMap<>();
            for (var entry : get(admin.describeLogDirs(List.of(node)).allDescriptions()).get(node).entrySet()) {
                dirs.put(entry.getKey(), logDir(entry.getValue(), prefix));
            }
            return Json.object("broker", node, "dirs", new ArrayList<>(dirs.values()));
        });
        step("describeReplicaLogDirs", () -> {
            var described = admin.describeReplicaLogDirs(List.of(
                    new TopicPartitionReplica(b, 0, node), new TopicPartitionReplica(a, 9, node))).values();
            Map<String, KafkaFuture<DescribeReplicaLogDirsResult.ReplicaLogDirInfo>> byPartition = new TreeMap<>();
            described.forEach((replica, info) -> byPartition.put(replica.topic() + "-" + replica.partition(), info));
            return each(byPartition, info -> Json.object(
                    "currentReplicaLogDir", info.getCurrentReplicaLogDir(),
                    "currentReplicaOffsetLag", info.getCurrentReplicaOffsetLag(),
                    "futureReplicaLogDir", info.getFutureReplicaLogDir(),
                    "futureReplicaOffsetLag", info.getFutureReplicaOffsetLag()));
        });

        groups(a, b, b0);

        // ---- deleting topics ----
        step("deleteTopics", () -> each(admin.deleteTopics(List.of(a, prefix + "-missing")).topicNameValues(), done -> "ok"));
        step("deleteTopics by id", () -> each(admin.deleteTopics(TopicCollection.ofTopicIds(List.of(bId, UNKNOWN_TOPIC_ID))).topicIdValues(), done -> "ok"));
        step("listTopics after deleteTopics", () -> {
            Support.waitFor("the deleted topics to go", () -> {
                try {
                    return ((List<?>) ourTopics(false).get("names")).isEmpty();
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e);
                }
            });
            return ourTopics(false);
        });
    }

    private void groups(String a, String b, TopicPartition b0) throws Exception {
        String group = prefix + "-group";
        TopicPartition a0 = new TopicPartition(a, 0);
        try (KafkaConsumer<String, String> consumer = Clients.classic(bootstrap, group,
                "enable.auto.commit", false, "client.id", "admin-calls-member")) {
            consumer.subscribe(List.of(b));
            Clients.readAtLeast(consumer, 6);
            consumer.commitSync(Map.of(b0, new OffsetAndMetadata(7, "meta")));
            // The member stays in the group (its heartbeat thread keeps it there) while the
            // admin calls below look at it.
            step("listGroups", () -> ourGroups(get(admin.listGroups().all()).stream().map(listing -> Json.object(
                    "groupId", listing.groupId(),
                    "type", listing.type().map(Object::toString).orElse(null),
                    "protocol", listing.protocol(),
                    "groupState", listing.groupState().map(Object::toString).orElse(null),
                    "isSimpleConsumerGroup", listing.isSimpleConsumerGroup()))));
            step("listConsumerGroups", () -> ourGroups(get(admin.listConsumerGroups().all()).stream().map(listing -> Json.object(
                    "groupId", listing.groupId(),
                    "isSimpleConsumerGroup", listing.isSimpleConsumerGroup(),
                    "groupState", listing.groupState().map(Object::toString).orElse(null),
                    "type", listing.type().map(Object::toString).orElse(null)))));
            step("describeConsumerGroups", () -> describedGroups(List.of(group, prefix + "-no-such-group")));
            step("describeClassicGroups", () -> each(admin.describeClassicGroups(List.of(group)).describedGroups(), described -> Json.object(
                    "groupId", described.groupId(),
                    "protocol", described.protocol(),
                    "protocolData", described.protocolData(),
                    "isSimpleConsumerGroup", described.isSimpleConsumerGroup(),
                    "state", described.state().toString(),
                    "coordinator", described.coordinator().id(),
                    "members", described.members().stream().map(AdminCalls::member).toList())));
            step("listConsumerGroupOffsets", () -> groupOffsets(group));
            step("deleteConsumerGroups while active", () -> each(admin.deleteConsumerGroups(List.of(group)).deletedGroups(), done -> "ok"));
            step("alterConsumerGroupOffsets while active", () -> each(Map.of("all", admin.alterConsumerGroupOffsets(
                    group, Map.of(b0, new OffsetAndMetadata(5))).all()), done -> "ok"));
            step("deleteConsumerGroupOffsets while subscribed", () -> each(Map.of(b0, admin.deleteConsumerGroupOffsets(group, Set.of(b0)).partitionResult(b0)), done -> "ok"));
            step("removeMembersFromConsumerGroup", () -> {
                var removed = admin.removeMembersFromConsumerGroup(group, new RemoveMembersFromConsumerGroupOptions());
                get(removed.all());
                return "ok";
            });
            step("describeConsumerGroups after removeMembers", () -> describedGroups(List.of(group)));
        }
        step("alterConsumerGroupOffsets", () -> each(Map.of("all", admin.alterConsumerGroupOffsets(group, Map.of(
                b0, new OffsetAndMetadata(5, "altered"), a0, new OffsetAndMetadata(0))).all()), done -> "ok"));
        step("listConsumerGroupOffsets after alter", () -> groupOffsets(group));
        step("deleteConsumerGroupOffsets", () -> each(Map.of(a0, admin.deleteConsumerGroupOffsets(group, Set.of(a0)).partitionResult(a0)), done -> "ok"));
        step("listConsumerGroupOffsets after delete", () -> groupOffsets(group));
        step("deleteConsumerGroups", () -> each(admin.deleteConsumerGroups(List.of(group, prefix + "-no-such-group")).deletedGroups(), done -> "ok"));
        step("describeConsumerGroups after deleteConsumerGroups", () -> describedGroups(List.of(group)));
        step("listConsumerGroupOffsets after deleteConsumerGroups", () -> groupOffsets(group));
    }

    // ---- what the results look like in JSON ----

    static Map<String, Object> node(Node node) {
        return Json.object("id", node.id(), "host", node.host(), "port", node.port(), "rack", node.rack());
    }

    private Map<String, Object> ourTopics(boolean listInternal) throws ExecutionException {
        var listings = get(admin.listTopics(new ListTopicsOptions().listInternal(listInternal)).listings()).stream()
                .filter(listing -> listing.name().startsWith(prefix)).toList();
        return Json.object(
                "names", listings.stream().map(listing -> listing.name()).sorted().toList(),
                "internal", listings.stream().filter(listing -> listing.isInternal()).map(listing -> listing.name()).toList(),
                "topicIdsPresent", listings.stream().allMatch(listing -> !listing.topicId().equals(Uuid.ZERO_UUID)));
    }

    private List<Object> ourGroups(java.util.stream.Stream<Map<String, Object>> listings) {
        return listings.filter(listing -> ((String) listing.get("groupId")).startsWith(prefix))
                .sorted(java.util.Comparator.comparing(listing -> (String) listing.get("groupId")))
                .collect(Collectors.toList());
    }

    static Map<String, Object> created(CreateTopicsResult result) {
        return each(result.values(), done -> "ok").entrySet().stream().collect(Collectors.toMap(
                Map.Entry::getKey,
                entry -> {
                    if (!"ok".equals(entry.getValue())) return entry.getValue();
                    String topic = entry.getKey();
                    try {
                        Map<String, Object> configs = new TreeMap<>();
                        for (ConfigEntry config : get(result.config(topic)).entries()) {
                            configs.put(config.name(), Json.object("value", config.value(), "source", config.source().toString(),
                                    "readOnly", config.isReadOnly(), "sensitive", config.isSensitive()));
                        }
                        return Json.object(
                                "numPartitions", get(result.numPartitions(topic)),
                                "replicationFactor", get(result.replicationFactor(topic)),
                                "topicId", get(result.topicId(topic)).toString(),
                                "configs", configs);
                    } catch (ExecutionException e) {
                        return Support.error(e);
                    }
                },
                (x, y) -> x,
                TreeMap::new));
    }

    static <K> Map<String, Object> described(Map<K, KafkaFuture<TopicDescription>> futures) {
        return each(futures, description -> Json.object(
                "name", description.name(),
                "topicId", description.topicId().toString(),
                "internal", description.isInternal(),
                "authorizedOperations", operations(description.authorizedOperations()),
                "partitions", description.partitions().stream().map(AdminCalls::partition).toList()));
    }

    /** ACL operations sorted by name, or null when the broker was not asked or did not say. */
    static List<String> operations(Set<org.apache.kafka.common.acl.AclOperation> operations) {
        return operations == null ? null : operations.stream().map(Object::toString).sorted().toList();
    }

    static Map<String, Object> partition(TopicPartitionInfo info) {
        return Json.object(
                "partition", info.partition(),
                "leader", info.leader() == null ? null : info.leader().id(),
                "replicas", info.replicas().stream().map(Node::id).toList(),
                "isr", info.isr().stream().map(Node::id).toList(),
                "elr", info.elr() == null ? null : info.elr().stream().map(Node::id).toList(),
                "lastKnownElr", info.lastKnownElr() == null ? null : info.lastKnownElr().stream().map(Node::id).toList());
    }

    private Map<String, Object> configs(Collection<ConfigResource> resources, boolean synonyms) {
        return each(admin.describeConfigs(resources, new DescribeConfigsOptions().includeSynonyms(synonyms)
                .includeDocumentation(synonyms)).values(), (Config config) -> {
            Map<String, Object> entries = new TreeMap<>();
            for (ConfigEntry entry : config.entries()) {
                entries.put(entry.name(), Json.object(
                        "value", entry.value(),
                        "source", entry.source().toString(),
                        "readOnly", entry.isReadOnly(),
                        "sensitive", entry.isSensitive(),
                        "type", entry.type().toString(),
                        "documentation", entry.documentation(),
                        "synonyms", entry.synonyms().stream().map(synonym -> List.of(
                                synonym.name(), String.valueOf(synonym.value()), synonym.source().toString())).toList()));
            }
            return entries;
        });
    }

    /** Each partition's election: "elected", or the error (a single node never needs one). */
    private static Map<String, Object> elections(ElectLeadersResult result) throws Exception {
        Map<String, Object> results = new TreeMap<>();
        get(result.partitions()).forEach((partition, error) ->
                results.put(partition.toString(), error.<Object>map(Support::error).orElse("elected")));
        return results;
    }

    /** The broker configs both brokers define with the same default: Kafka's has hundreds,
     * localbroker those it reads or that describe it truthfully. */
    private static final Set<String> BROKER_CONFIGS = Set.of(
            "auto.create.topics.enable", "compression.type", "default.replication.factor",
            "group.initial.rebalance.delay.ms", "log.cleanup.policy", "log.retention.hours",
            "log.retention.ms", "log.segment.bytes", "message.max.bytes", "num.partitions",
            "offsets.topic.replication.factor", "unclean.leader.election.enable");

    private Map<String, Object> brokerConfigs(ConfigResource broker) {
        Map<String, Object> described = configs(List.of(broker), false);
        Object entries = described.get(broker.toString());
        if (entries instanceof Map<?, ?> all) {
            Map<String, Object> chosen = new TreeMap<>();
            all.forEach((name, entry) -> {
                if (BROKER_CONFIGS.contains(name)) chosen.put((String) name, entry);
            });
            return Json.object("configs", chosen);
        }
        return described;
    }

    /** Waits until `resource` shows `name` at `value`. Kafka's controller commits a change
     * before the call returns, but the broker applies it when the metadata reaches it, a moment
     * later: a describe right after the call may still see the old value. */
    private void awaitConfig(ConfigResource resource, String name, String value) {
        Support.waitFor(name + " at " + value, () -> {
            try {
                Config config = get(admin.describeConfigs(List.of(resource)).all()).get(resource);
                return java.util.Objects.equals(config.get(name).value(), value);
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Waits until the broker's metadata shows `topic` with `partitions` (as awaitConfig). */
    private void awaitPartitions(String topic, int partitions) {
        Support.waitFor(topic + " with " + partitions + " partitions", () -> {
            try {
                return get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).partitions().size() == partitions;
            } catch (ExecutionException e) {
                return false;  // not there yet
            }
        });
    }

    private Map<String, Object> offsets(Map<String, OffsetSpec> specs, List<TopicPartition> partitions, IsolationLevel isolation) {
        Map<String, Object> results = new TreeMap<>();
        specs.forEach((name, spec) -> {
            Map<TopicPartition, OffsetSpec> request = partitions.stream().collect(Collectors.toMap(p -> p, p -> spec));
            var listed = admin.listOffsets(request, new ListOffsetsOptions(isolation));
            Map<String, KafkaFuture<Object>> futures = new TreeMap<>();
            request.keySet().forEach(partition -> futures.put(partition.toString(), listed.partitionResult(partition).thenApply(
                    info -> Json.object("offset", info.offset(), "timestamp", info.timestamp(),
                            "leaderEpoch", info.leaderEpoch().orElse(null)))));
            results.put(name, each(futures, info -> info));
        });
        return results;
    }

    /** A log dir and the replicas of this run's topics in it. */
    static Map<String, Object> logDir(LogDirDescription description, String prefix) {
        Map<String, Object> replicas = new TreeMap<>();
        description.replicaInfos().forEach((partition, info) -> {
            if (partition.topic().startsWith(prefix)) {
                replicas.put(partition.toString(), Json.object(
                        "size", info.size(), "offsetLag", info.offsetLag(), "isFuture", info.isFuture()));
            }
        });
        return Json.object(
                "error", description.error() == null ? null : description.error().getClass().getSimpleName(),
                "totalBytesPresent", description.totalBytes().isPresent(),
                "usableBytesPresent", description.usableBytes().isPresent(),
                "replicas", replicas);
    }

    private Map<String, Object> describedGroups(List<String> groups) {
        return each(admin.describeConsumerGroups(groups, new DescribeConsumerGroupsOptions().includeAuthorizedOperations(true)).describedGroups(), (ConsumerGroupDescription described) -> Json.object(
                "groupId", described.groupId(),
                "isSimpleConsumerGroup", described.isSimpleConsumerGroup(),
                "partitionAssignor", described.partitionAssignor(),
                "type", described.type().toString(),
                "groupState", described.groupState().toString(),
                "coordinator", described.coordinator().id(),
                "authorizedOperations", operations(described.authorizedOperations()),
                "groupEpoch", described.groupEpoch().orElse(null),
                "targetAssignmentEpoch", described.targetAssignmentEpoch().orElse(null),
                "members", described.members().stream().map(AdminCalls::member).toList()));
    }

    static Map<String, Object> member(MemberDescription member) {
        return Json.object(
                "memberId", member.consumerId(),
                "groupInstanceId", member.groupInstanceId().orElse(null),
                "clientId", member.clientId(),
                "host", member.host(),
                "assignment", member.assignment().topicPartitions().stream().map(TopicPartition::toString).sorted().toList(),
                "memberEpoch", member.memberEpoch().orElse(null),
                "upgraded", member.upgraded().orElse(null));
    }

    private Map<String, Object> groupOffsets(String group) throws ExecutionException {
        Map<String, Object> offsets = new TreeMap<>();
        get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()).forEach((partition, offset) ->
                offsets.put(partition.toString(), offset == null ? null : Json.object(
                        "offset", offset.offset(),
                        "metadata", offset.metadata(),
                        "leaderEpoch", offset.leaderEpoch().orElse(null))));
        return offsets;
    }
}
