"""Every storage port in one DynamoDB table: the store of a Lambda deployment.

One table, overloaded keys (``pk`` only), two global secondary indexes:

- message ``msg#<cid>``: the envelope (JSON text, so it comes back byte-for-byte), ``seq``,
  ``pinned``; ``gsi1`` = (``board#<board>``, ``<ts>#<seq>``) lists a board newest first and
  ``gsi2`` = (``board#<board>``, ``seq``) lists it in the order this node received it;
- outbox entry ``outbox#<cid>``: ``gsi1`` = (``outbox``, ``<next_attempt_at>#<cid>``), due first;
- replica entry ``replica#<cid>`` of a message received from a peer and not pinned yet:
  ``gsi1`` = (``replicas``, ``<received_at>#<cid>``), oldest first;
- peer ``peer#<id>`` (``gsi1`` = (``peers``, id)), meta ``meta#<key>`` (``gsi1`` = (``meta``,
  key), so the sync frontiers are a Query of one partition; keys as in ``storage.meta``);
- remote pin ``remotepin#<cid>``: while open, ``gsi1`` = (``remotepin``, ``<due>#<cid>``); a
  pinned one drops its ``gsi1`` keys, so the partition is the backlog, not the history;
- counters: ``counter#board#<board>`` (next ``seq``, message count) and ``counter#all``.

How a message is written with its outbox entry and counters, and why readers never skip a
sequence number: ``storage/dynamodb/messages.py``.
"""
