"""Start the emulated ATOL web server as a real subprocess (tests, benchmarks).

    web = start_atol_emulator(tmp_path)     # -> AtolEmulatorProcess
    device = make_device(web.config)        # ru54fz.devices, type 'atol'
    web.control.set(paper_out=True)
    web.stop()

Same life cycle and control client as the Shtrih emulator's harness.
"""

from ..emulator.harness import EmulatorProcess


class AtolEmulatorProcess(EmulatorProcess):
    module = "ru54fz.atol"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self):
        return {"type": "atol", "address": self.url}

    def _command(self, port):
        import sys

        return [
            sys.executable,
            "-m",
            self.module,
            "--port",
            str(port),
            "--state-file",
            self.state_file,
            *self.args,
        ]


def start_atol_emulator(state_dir, args=(), state_file=None, timeout=15.0):
    proc = AtolEmulatorProcess(
        state_dir, args=args, state_file=state_file or f"{state_dir}/atol_emulator_state.json"
    )
    return proc.start(timeout)
