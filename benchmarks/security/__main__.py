import sys

from benchmarks.security.run import main

sys.exit(main())
