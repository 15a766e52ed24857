package datamcp.rules.public_access_test

import data.datamcp.rules.public_access
import data.datamcp.testing as t

bucket := t.resource("aws:s3/bucket:Bucket", "data-bucket", {"bucket": "d", "tags": t.tags})

pab(flags) := t.depends(t.resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-pab", flags), bucket)

all_on := {"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}

test_s3_public_access_block_fully_on_passes if {
	results := public_access.deny with input as t.doc("prod", [bucket, pab(all_on)])
	count(results) == 0
}

test_s3_public_access_block_flag_off_denied if {
	results := public_access.deny with input as t.doc("dev", [bucket, pab(object.union(all_on, {"restrictPublicBuckets": false}))])
	t.fired(results, "DM-S3-001", "data-pab")
	some r in results
	contains(r.message, "restrictPublicBuckets")
}

test_s3_bucket_without_access_block_denied if {
	results := public_access.deny with input as t.doc("dev", [bucket])
	t.fired(results, "DM-S3-002", "data-bucket")
}

test_s3_access_block_matched_by_bucket_name if {
	block := t.resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", object.union(all_on, {"bucket": "d"}))
	results := public_access.deny with input as t.doc("prod", [bucket, block])
	not "DM-S3-002" in t.ids(results)
}

test_s3_access_block_covers_only_its_own_bucket if {
	other := t.resource("aws:s3/bucket:Bucket", "other-bucket", {"bucket": "o", "tags": t.tags})
	results := public_access.deny with input as t.doc("prod", [bucket, pab(all_on), other])
	count(results) == 1
	t.fired(results, "DM-S3-002", "other-bucket")
}

test_s3_unknown_bucket_name_matches_no_access_block if {
	unnamed := t.resource("aws:s3/bucket:Bucket", "unnamed", {"bucket": "[unknown]", "tags": t.tags})
	loose := t.resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "loose", object.union(all_on, {"bucket": "[unknown]"}))
	results := public_access.deny with input as t.doc("prod", [unnamed, loose])
	t.fired(results, "DM-S3-002", "unnamed")
}

test_s3_public_acl_denied if {
	acl := t.resource("aws:s3/bucketAclV2:BucketAclV2", "data-acl", {"bucket": "d", "acl": "public-read"})
	results := public_access.deny with input as t.doc("prod", [bucket, pab(all_on), acl])
	t.fired(results, "DM-S3-003", "data-acl")
}

test_s3_public_grant_denied if {
	grants := {"grants": [{"permission": "READ", "grantee": {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}]}
	acl := t.resource("aws:s3/bucketAclV2:BucketAclV2", "data-acl", {"bucket": "d", "accessControlPolicy": grants})
	results := public_access.deny with input as t.doc("prod", [bucket, pab(all_on), acl])
	t.fired(results, "DM-S3-003", "data-acl")
}

test_s3_private_acl_passes if {
	acl := t.resource("aws:s3/bucketAclV2:BucketAclV2", "data-acl", {"bucket": "d", "acl": "private"})
	results := public_access.deny with input as t.doc("prod", [bucket, pab(all_on), acl])
	count(results) == 0
}

policy(statement) := t.resource("aws:s3/bucketPolicy:BucketPolicy", "data-policy", {"bucket": "d", "policy": json.marshal({"Version": "2012-10-17", "Statement": [statement]})})

test_s3_policy_for_anyone_denied if {
	statement := {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::d/*"}
	results := public_access.deny with input as t.doc("prod", [bucket, pab(all_on), policy(statement)])
	t.fired(results, "DM-S3-004", "data-policy")
}

test_s3_policy_for_any_aws_principal_object_denied if {
	statement := {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::d/*"}
	doc := {"Statement": statement}
	inline := t.resource("aws:s3/bucketPolicy:BucketPolicy", "inline", {"bucket": "d", "policy": doc})
	results := public_access.deny with input as t.doc("prod", [bucket, pab(all_on), inline])
	t.fired(results, "DM-S3-004", "inline")
}

test_s3_policy_with_condition_or_deny_passes if {
	tls_only := {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
	vpce := {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}
	unknown := t.resource("aws:s3/bucketPolicy:BucketPolicy", "unknown", {"bucket": "d", "policy": "[unknown]"})
	results := public_access.deny with input as t.doc("prod", [bucket, pab(all_on), policy(tls_only), policy(vpce), unknown])
	count(results) == 0
}

gcs(inputs) := t.resource("gcp:storage/bucket:Bucket", "data-bucket", object.union({"name": "d", "labels": t.tags}, inputs))

test_gcs_secure_bucket_passes if {
	results := public_access.deny with input as t.doc("prod", [gcs({"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": true})])
	count(results) == 0
}

test_gcs_public_access_prevention_inherited_denied if {
	results := public_access.deny with input as t.doc("dev", [gcs({"publicAccessPrevention": "inherited", "uniformBucketLevelAccess": true})])
	t.ids(results) == {"DM-GCS-001"}
}

test_gcs_uniform_access_off_denied if {
	results := public_access.deny with input as t.doc("dev", [gcs({"publicAccessPrevention": "enforced"})])
	t.ids(results) == {"DM-GCS-002"}
}

test_gcp_all_users_member_denied if {
	member := t.resource("gcp:storage/bucketIAMMember:BucketIAMMember", "public-read", {"bucket": "d", "member": "allUsers", "role": "roles/storage.objectViewer"})
	results := public_access.deny with input as t.doc("dev", [member])
	t.fired(results, "DM-GCP-001", "public-read")
}

test_gcp_all_authenticated_binding_and_acl_denied if {
	binding := t.resource("gcp:projects/iAMBinding:IAMBinding", "viewers", {"members": ["user:a@example.com", "allAuthenticatedUsers"], "role": "roles/viewer"})
	acl := t.resource("gcp:storage/bucketACL:BucketACL", "acl", {"bucket": "d", "roleEntities": ["READER:allUsers"]})
	results := public_access.deny with input as t.doc("dev", [binding, acl])
	t.fired(results, "DM-GCP-001", "viewers")
	t.fired(results, "DM-GCP-001", "acl")
}

test_gcp_named_member_passes if {
	member := t.resource("gcp:projects/iAMMember:IAMMember", "reader", {"member": "serviceAccount:n@p.iam.gserviceaccount.com", "role": "roles/artifactregistry.reader"})
	unknown := t.resource("gcp:projects/iAMMember:IAMMember", "later", {"member": "[unknown]", "role": "roles/viewer"})
	lookalike := t.resource("gcp:projects/iAMMember:IAMMember", "lookalike", {"member": "user:allUsers@example.com", "role": "roles/viewer"})
	results := public_access.deny with input as t.doc("prod", [member, unknown, lookalike])
	count(results) == 0
}

test_s3_policy_for_any_aws_principal_string_denied if {
	statement := {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject"}
	results := public_access.deny with input as t.doc("prod", [bucket, pab(all_on), policy(statement)])
	t.fired(results, "DM-S3-004", "data-policy")
}
