"""The runtime that wires the parts and starts them: the services container, the node key,
the CLI, the local IPFS daemon and the scheduled (Lambda) run."""
