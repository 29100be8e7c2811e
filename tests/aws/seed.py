"""Seeds a moto server with the resources the end-to-end audit test expects, through the normal
service APIs (boto3), as an account owner would create them.

Usage: python seed.py http://127.0.0.1:PORT
Creates, in us-east-1 (account 123456789012, moto's default):
- a configuration recorder (recording) and an aggregator `org` over this account and region;
- S3 bucket `acme-public-assets`: public-read ACL, no public access block      -> must fail;
- S3 bucket `acme-audit-logs`: private, all four Block Public Access settings,
  default encryption and versioning                                          -> must pass;
- IAM policy `AdministratorAccessCustom`: Allow * on *                       -> must fail;
- IAM policy `ReadAuditLogs`: s3:GetObject on one bucket                      -> must pass.
us-west-2 has no recorder: auditing it must fail with a clear "no recorder" error.
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                region_name="us-east-1")
s3 = session.client("s3", endpoint_url=endpoint)
iam = session.client("iam", endpoint_url=endpoint)
config = session.client("config", endpoint_url=endpoint)

config.put_configuration_recorder(ConfigurationRecorder={
    "name": "default", "roleARN": "arn:aws:iam::123456789012:role/aws-config",
    "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "acme-audit-logs"})
config.start_configuration_recorder(ConfigurationRecorderName="default")
config.put_configuration_aggregator(
    ConfigurationAggregatorName="org",
    AccountAggregationSources=[{"AccountIds": ["123456789012"], "AwsRegions": ["us-east-1"]}])

s3.create_bucket(Bucket="acme-public-assets", ACL="public-read")
s3.create_bucket(Bucket="acme-audit-logs")
s3.put_public_access_block(Bucket="acme-audit-logs", PublicAccessBlockConfiguration={
    "BlockPublicAcls": True, "IgnorePublicAcls": True,
    "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
s3.put_bucket_encryption(Bucket="acme-audit-logs", ServerSideEncryptionConfiguration={
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]})
s3.put_bucket_versioning(Bucket="acme-audit-logs", VersioningConfiguration={"Status": "Enabled"})

iam.create_policy(PolicyName="AdministratorAccessCustom", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
iam.create_policy(PolicyName="ReadAuditLogs", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                   "Resource": "arn:aws:s3:::acme-audit-logs/*"}]}))
print("seeded")
