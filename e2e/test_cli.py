"""The `cairn` command itself: startup output, `cairn env`, the configuration file, --help."""

import subprocess

from conftest import CAIRN, Cairn


def test_first_start_prints_credentials_once_and_env_repeats_them(workdir):
    c = Cairn(workdir / "cli-first-start")
    c.start()
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
    c.stop()
    second = open(c.log.name).read()[len(first):]
    assert env["AWS_ACCESS_KEY_ID"] in second
    assert env["AWS_SECRET_ACCESS_KEY"] not in second, "the secret is printed only on the first start"
    assert oct((c.data_dir / "identity.db").stat().st_mode & 0o777) == "0o600"
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
    p = subprocess.run([str(CAIRN), "serve", "--config", str(conf), "--data-dir", str(c.data_dir)], capture_output=True, text=True)
    assert p.returncode != 0 and "bogus" in p.stderr


def test_env_without_data_explains_what_to_do(tmp_path):
    p = subprocess.run([str(CAIRN), "env", "--data-dir", str(tmp_path / "none")], capture_output=True, text=True)
    assert p.returncode != 0
    assert "start `cairn serve" in p.stderr


def test_help_explains_every_flag():
    out = subprocess.run([str(CAIRN), "serve", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ["--data-dir", "--listen", "--region", "--history-retention-days", "--config"]:
        assert flag in out
    for cmd in ["serve", "env", "import", "bench"]:
        assert cmd in subprocess.run([str(CAIRN), "--help"], capture_output=True, text=True, check=True).stdout
