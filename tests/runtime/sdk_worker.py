"""An SDK process for the multi-process tests: ``Proctor.from_config`` following the store.

Prints ``ready`` once built, then answers each line of JSON on stdin
(``{"action", "agent", "user"}``) with the decision as one line of JSON;
end of input closes the instance.
"""

from __future__ import annotations

import json
import sys

from proctor.sdk.client import Proctor


def main(config: str) -> None:
    with Proctor.from_config(config, policies_from_store=True) as guard:
        print("ready", flush=True)
        for line in sys.stdin:
            asked = json.loads(line)
            decision = guard.check(asked["action"], agent=asked["agent"], user=asked.get("user"))
            print(json.dumps(decision.to_dict()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
