"""moto's server with three AWS Config fidelity fixes, for SDKs stricter than boto3 (the Rust SDK).

Used by the end-to-end audit test (tests/audit.rs); needs `moto[server]==5.2.5` (requirements.txt).

1. S3/IAM configuration items carry str(datetime) timestamps ("2026-01-01 10:00:00.123+00:00");
   awsJson1.1 wants epoch seconds, and the Rust SDK rejects anything else -> rewrite to numbers.
2. An S3 bucket ACL with a global group grantee (public-read) crashes to_config_dict
   (IndexError splitting the grantee URI) -> HTTP 500 -> fixed.
3. S3 configuration items lack ServerSideEncryptionConfiguration and
   BucketVersioningConfiguration, which AWS Config records -> added.

Usage: python moto_config_shim.py -H 127.0.0.1 -p PORT
"""
import datetime
import json
import sys

from moto.config import responses as cr
import moto.s3.models as s3m

TS_KEYS = {"configurationItemCaptureTime", "resourceCreationTime", "resourceDeletionTime"}


def _fix_ts(o):
    if isinstance(o, dict):
        for k, v in list(o.items()):
            if k in TS_KEYS and isinstance(v, str):
                dt = datetime.datetime.fromisoformat(v.replace(" ", "T"))
                if dt.tzinfo is None:
                    dt = dt.replace(tzinfo=datetime.timezone.utc)
                o[k] = dt.timestamp()
            else:
                _fix_ts(v)
    elif isinstance(o, list):
        for x in o:
            _fix_ts(x)
    return o


for name in ["batch_get_resource_config", "get_resource_config_history",
             "batch_get_aggregate_resource_config", "get_aggregate_resource_config"]:
    orig = getattr(cr.ConfigResponse, name, None)
    if orig is not None:
        def wrapped(self, _orig=orig):
            return json.dumps(_fix_ts(json.loads(_orig(self))))
        setattr(cr.ConfigResponse, name, wrapped)


def acl_to_config_dict(self):
    data = {"grantSet": None, "owner": {"displayName": None, "id": s3m.OWNER}}
    grants = []
    for grant in self.grants:
        perms = grant.permissions if isinstance(grant.permissions, list) else [grant.permissions]
        for p in perms:
            for g in grant.grantees:
                if g.uri:  # http://acs.amazonaws.com/groups/global/AllUsers -> "AllUsers", as AWS Config records it
                    grants.append({"grantee": g.uri.rstrip("/").rsplit("/", 1)[-1],
                                   "permission": s3m.CAMEL_CASED_PERMISSIONS[p]})
                else:
                    grants.append({"grantee": {"id": g.id, "displayName": g.display_name or None},
                                   "permission": s3m.CAMEL_CASED_PERMISSIONS[p]})
    if grants:
        data["grantList"] = grants
    return data


s3m.FakeAcl.to_config_dict = acl_to_config_dict


def _find(o, key):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == key:
                return v
            r = _find(v, key)
            if r is not None:
                return r
    elif isinstance(o, list):
        for x in o:
            r = _find(x, key)
            if r is not None:
                return r
    return None


_orig_bucket_cfg = s3m.FakeBucket.to_config_dict


def bucket_to_config_dict(self, *a, **kw):
    d = _orig_bucket_cfg(self, *a, **kw)
    s = d.setdefault("supplementaryConfiguration", {})
    s["BucketVersioningConfiguration"] = {"status": self.versioning_status or "Off", "isMfaDeleteEnabled": None}
    if self.encryption:
        bke = _find(self.encryption, "BucketKeyEnabled")
        s["ServerSideEncryptionConfiguration"] = {"rules": [{
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": _find(self.encryption, "SSEAlgorithm"),
                "kmsMasterKeyID": _find(self.encryption, "KMSMasterKeyID")},
            "bucketKeyEnabled": str(bke).lower() == "true"}]}
    return d


s3m.FakeBucket.to_config_dict = bucket_to_config_dict

if __name__ == "__main__":
    from moto.server import main
    main(sys.argv[1:])
