"""What the node needs from its store, one narrow port per concern; ``storage.sqlite`` and
``storage.dynamodb`` implement every one, and each part of the node receives only the ports it
uses."""
