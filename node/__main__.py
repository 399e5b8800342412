import sys

from node.runtime.cli import main

sys.exit(main())
