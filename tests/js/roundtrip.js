// KafkaJS against localbroker: admin, an idempotent producer and a consumer group.
// Usage: node roundtrip.js BOOTSTRAP TOPIC GROUP COUNT ; prints one JSON line with what it saw.
const { Kafka, logLevel } = require('kafkajs')

const [bootstrap, topic, group, countText] = process.argv.slice(2)
const count = Number(countText)
const kafka = new Kafka({ clientId: 'kafkajs-test', brokers: [bootstrap], logLevel: logLevel.NOTHING })

async function main () {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const messages = []
  for (let i = 0; i < count; i++) {
    messages.push({ key: `k${i}`, value: `v${i}`, headers: { n: String(i) } })
  }
  await producer.send({ topic, acks: -1, messages })
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 500 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const seen = []
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} of ${count} consumed`)), 30000)
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, offset: message.offset, key: message.key.toString(),
          value: message.value.toString(), n: message.headers.n.toString() })
        if (seen.length === count) { clearTimeout(timer); resolve() }
      }
    }).catch(reject)
  })
  await consumer.disconnect()
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] })
  const groups = await admin.listGroups()
  await producer.disconnect()
  await admin.disconnect()
  console.log(JSON.stringify({ seen, offsets, groups: groups.groups }))
}

main().catch(error => { console.error(String(error)); process.exit(1) })
