import sys

from parcelnet.cli import main

sys.exit(main())
