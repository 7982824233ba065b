"""The `cairn` command itself: startup output, `cairn env`, the configuration file, --help."""

import os
import subprocess

from conftest import CAIRN, Cairn, wait_for


def test_first_start_prints_credentials_once_and_env_repeats_them(workdir):
    c = Cairn(workdir / "cli-first-start")
    c.start()
    # Listening begins just before the startup lines are written: stopping at once could end
    # the process before it wrote them.
    wait_for(lambda: "export AWS_SECRET_ACCESS_KEY=" in open(c.log.name).read(), timeout=30, every=0.1)
    c.stop()
    first = open(c.log.name).read()
    env = c.env()
    assert f"endpoint:  http://127.0.0.1:{c.port}" in first
    assert f"data dir:  {c.data_dir}" in first
    assert f"export AWS_SECRET_ACCESS_KEY={env['AWS_SECRET_ACCESS_KEY']}" in first
    assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{c.port}"
    assert env["AWS_ACCESS_KEY_ID"].startswith("AKIA") and len(env["AWS_ACCESS_KEY_ID"]) == 20
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    c.start()
    wait_for(lambda: env["AWS_ACCESS_KEY_ID"] in open(c.log.name).read()[len(first):], timeout=30, every=0.1)
    c.stop()
    second = open(c.log.name).read()[len(first):]
    assert env["AWS_ACCESS_KEY_ID"] in second
    assert env["AWS_SECRET_ACCESS_KEY"] not in second, "the secret is printed only on the first start"
    # What holds secrets is the owner's alone: the identity store, or on a cluster's node (whose
    # identities are in the database) the master key that seals their secrets there.
    secrets = c.data_dir / ("identity.key" if os.environ.get("CAIRN_E2E_CLUSTER") else "identity.db")
    assert oct(secrets.stat().st_mode & 0o777) == "0o600"
    assert oct(c.data_dir.stat().st_mode & 0o777) == "0o700"


def test_configuration_file_and_precedence(workdir, tmp_path):
    conf = tmp_path / "cairn.toml"
    conf.write_text('region = "eu-west-3"\nhistory_retention_days = 7\n')
    c = Cairn(workdir / "cli-config", ["--config", str(conf)])
    c.start()
    c.stop()
    assert c.env()["AWS_DEFAULT_REGION"] == "eu-west-3"
    assert "history:   7 days" in open(c.log.name).read()
    c.extra_args = ["--config", str(conf), "--region", "ap-south-1"]
    c.start()
    c.stop()
    assert c.env()["AWS_DEFAULT_REGION"] == "ap-south-1", "a flag beats the file"
    conf.write_text("bogus = 1\n")
    p = subprocess.run([str(CAIRN), "serve", *c.config_args(conf), "--data-dir", str(c.data_dir)], capture_output=True, text=True)
    assert p.returncode != 0 and "bogus" in p.stderr


def test_env_without_data_explains_what_to_do(tmp_path):
    p = subprocess.run([str(CAIRN), "env", "--data-dir", str(tmp_path / "none")], capture_output=True, text=True)
    assert p.returncode != 0
    assert "start `cairn serve" in p.stderr


def test_help_explains_every_flag():
    out = subprocess.run([str(CAIRN), "serve", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ["--data-dir", "--listen", "--region", "--history-retention-days", "--config", "--max-connections",
                 "--tls-cert", "--tls-key", "--tls-self-signed", "--delivery-interval"]:
        assert flag in out
    for cmd in ["serve", "env", "import", "bench"]:
        assert cmd in subprocess.run([str(CAIRN), "--help"], capture_output=True, text=True, check=True).stdout


def test_durations_take_units_on_the_command_line_and_in_the_file(workdir, tmp_path):
    c = Cairn(workdir / "cli-durations", ["--delivery-interval", "2s", "--digest-interval", "1h"])
    c.start()
    c.stop()
    assert "delivery:  every 2 s; digests every 3600 s" in open(c.log.name).read()
    conf = tmp_path / "cairn.toml"
    conf.write_text('delivery_interval = "5m"\ndigest_interval = 90\nsigning_key_validity = "30d"\n')
    c.extra_args = ["--config", str(conf)]
    c.start()
    c.stop()
    assert "delivery:  every 300 s; digests every 90 s" in open(c.log.name).read()
    p = subprocess.run([str(CAIRN), "serve", "--data-dir", str(c.data_dir), "--delivery-interval", "soon"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "'soon' is not a duration" in p.stderr
    p = subprocess.run([str(CAIRN), "serve", "--data-dir", str(c.data_dir), "--delivery-interval", "0s"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "at least 1 s" in p.stderr
    conf.write_text('delivery_interval = "500ms"\n')
    p = subprocess.run([str(CAIRN), "serve", *c.config_args(conf), "--data-dir", str(c.data_dir)],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "delivery_interval in the configuration file" in p.stderr


def test_bench_load_fails_when_its_calls_fail(tmp_path):
    import socket
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    env = {"PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{dead}",
           "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
    p = subprocess.run([str(CAIRN), "bench", "load", "--duration", "1", "--connections", "2"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "calls failed (is the endpoint up and are the keys right?)" in p.stderr
