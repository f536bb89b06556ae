import pytest

import pulse


@pytest.fixture(scope="session")
def pulse_server(tmp_path_factory):
    """A private PulseAudio server with a virtual speaker and microphone (see tests/pulse.py).

    Its variables are set in os.environ while it runs; `pulse_server.client_env()` gives
    them to a subprocess.
    """
    reason = pulse.available()
    if reason:
        pytest.skip(f"no PulseAudio test server: {reason}")
    with pulse.running(tmp_path_factory.mktemp("pulse")) as server:
        yield server
