"""Makes an IAM user allowed to call cloudtrail:DescribeTrails (through a group policy with
conditions and an explicit guard-rail deny, as real accounts have them) and prints `export`
lines with its keys, for `cairn bench load` to sign with. Works against cairn and moto_server.

    python benches/iam_user.py --endpoint http://127.0.0.1:4566   # root keys from AWS_* variables
"""

import argparse
import json
import os

import boto3

POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:LookupEvents"], "Resource": "*",
     "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "10.0.0.0/8"]}}},
    {"Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"], "Resource": "*"}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    a = ap.parse_args()
    iam = boto3.client("iam", endpoint_url=a.endpoint, region_name="us-east-1",
                       aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "AKIABENCHSETUP"),
                       aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "secret"))
    iam.create_user(UserName="bench")
    iam.put_user_policy(UserName="bench", PolicyName="trail-readers", PolicyDocument=json.dumps(POLICY))
    key = iam.create_access_key(UserName="bench")["AccessKey"]
    print(f"export AWS_ACCESS_KEY_ID={key['AccessKeyId']}")
    print(f"export AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}")


if __name__ == "__main__":
    main()
