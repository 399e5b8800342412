// The js-ipfs 0.66.1 daemon (what `jsipfs daemon --enable-preload=false` runs), with one
// change: yamux beside mplex as stream multiplexer. Kubo has dropped mplex, and js-ipfs 0.66
// speaks nothing else, so without this a js-ipfs and a Kubo daemon cannot connect at all.
// Preload stays off: by default js-ipfs posts every CID it adds or reads to public servers.
import { yamux } from '@chainsafe/libp2p-yamux'
import { Daemon } from 'ipfs-daemon'
import { createLibp2p } from 'libp2p'

const daemon = new Daemon({
  repo: process.env.IPFS_PATH,
  preload: { enabled: false },
  libp2p: async ({ libp2pOptions }) => {
    libp2pOptions.streamMuxers = [yamux(), ...(libp2pOptions.streamMuxers ?? [])]
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
