import sys

from kkb.cli import main

sys.exit(main())
