// The js-ipfs 0.66.1 daemon (what `jsipfs daemon --enable-preload=false` runs), with two
// changes. First: yamux beside mplex as stream multiplexer. Kubo has dropped mplex, and js-ipfs
// 0.66 speaks nothing else, so without this a js-ipfs and a Kubo daemon cannot connect at all.
// Preload stays off: by default js-ipfs posts every CID it adds or reads to public servers.
import { RPC } from '@chainsafe/libp2p-gossipsub/message'
import { yamux } from '@chainsafe/libp2p-yamux'
import { Daemon } from 'ipfs-daemon'
import { createLibp2p } from 'libp2p'

// A second change: pubsub seqnos that count up. js-ipfs 0.66's gossipsub (6.3) gives each message
// it signs 8 random bytes as its seqno, and Kubo (>= 0.40) ignores every message whose seqno is
// not above the highest it has seen from that peer (go-libp2p-pubsub's BasicSeqnoValidator, kept
// in Kubo's datastore): only a rare new maximum got through (a Kubo peer received 4 of 60
// messages). The pubsub spec asks for a linearly increasing seqno; go, rust and later js-libp2p
// count up from the time in nanoseconds, and so does this daemon. ``publish`` builds and encodes
// its message synchronously, before its first await, so the flag marks exactly that encoding.
let lastSeqno = BigInt(Date.now()) * 1000000n
let publishing = false
const encodeMessage = RPC.Message.encode
RPC.Message.encode = function (message, writer) {
  if (publishing && message.signature === undefined && message.seqno?.length === 8) {
    lastSeqno += 1n
    const seqno = new Uint8Array(8)
    new DataView(seqno.buffer).setBigUint64(0, lastSeqno)
    message.seqno = seqno
  }
  return encodeMessage.call(this, message, writer)
}

function withCountedSeqnos (router) {
  return (components) => {
    const pubsub = router(components)
    const publish = pubsub.publish
    pubsub.publish = function (...args) {
      publishing = true
      try {
        return publish.apply(this, args)
      } finally {
        publishing = false
      }
    }
    return pubsub
  }
}

const daemon = new Daemon({
  repo: process.env.IPFS_PATH,
  preload: { enabled: false },
  libp2p: async ({ libp2pOptions }) => {
    libp2pOptions.streamMuxers = [yamux(), ...(libp2pOptions.streamMuxers ?? [])]
    libp2pOptions.pubsub = withCountedSeqnos(libp2pOptions.pubsub)
    return createLibp2p(libp2pOptions)
  }
})

let stopping = false
async function stop () {
  if (stopping) return
  stopping = true
  await daemon.stop()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

await daemon.start()
console.log('Daemon is ready')
