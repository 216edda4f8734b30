"""`python -m emulators.googleemu [--port 0] [--latency 0.3]`: the Google emulator in its own process (benchmarks, demos).

Makes an `Incidents` folder holding an incident template, then prints one JSON line: `url`, `root` (folder id),
`template` (document id) and `key` (a service-account key file whose token_uri is this emulator). Runs until
stdin closes or the process is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from emulators.googleemu.emulator import GoogleEmulator

TEMPLATE = "{{name}}: {{title}}\n{{description}}\nCommander: {{commander_fullname}}\n"


async def serve(port: int, latency: float) -> None:
    emu = GoogleEmulator(latency=latency)
    await emu.start(port)
    root = emu.add_folder("Incidents")
    template = emu.add_document("Incident template", TEMPLATE, parent=root.id)
    print(json.dumps({"url": emu.url, "root": root.id, "template": template.id, "key": emu.service_account_info()}),
          flush=True)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    finally:
        print(json.dumps({"calls": len(emu.calls), "tokens": len(emu.operations("token"))}), flush=True)
        await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.latency))
