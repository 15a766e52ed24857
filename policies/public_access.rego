# Public buckets: S3 public access blocks, public ACLs and open bucket policies; GCS public access prevention,
# uniform bucket-level access, and grants to allUsers/allAuthenticatedUsers on any GCP resource.
package datamcp.rules.public_access

import data.datamcp.lib

s3_bucket_types := {"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"}

s3_acl_types := {"aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl"}

public_canned_acls := {"public-read", "public-read-write", "authenticated-read"}

public_grantee_uris := {
	"http://acs.amazonaws.com/groups/global/AllUsers",
	"http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}

public_members := {"allUsers", "allAuthenticatedUsers"}

block_flags := ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]

buckets contains r if {
	some r in input.resources
	r.type in s3_bucket_types
}

access_block_type := "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"

access_blocks := lib.resources(access_block_type)

deny contains lib.finding(
	"DM-S3-001", "critical", r,
	sprintf("S3 public access block %s leaves %s off", [r.name, concat(", ", off)]),
	"Leave the Storage component's public_access off (its default), so the bucket's BucketPublicAccessBlock keeps all four flags (blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets) true.",
) if {
	some r in access_blocks
	off := [flag | some flag in block_flags; object.get(r.inputs, flag, false) != true]
	count(off) > 0
}

deny contains lib.finding(
	"DM-S3-002", "high", b,
	sprintf("S3 bucket %s has no public access block", [b.name]),
	"Create the bucket through the Storage component (components/aws/storage.py), which adds a BucketPublicAccessBlock with all four flags on.",
) if {
	some b in buckets
	not has_access_block(b)
}

has_access_block(b) if lib.has_attached({access_block_type}, b, "bucket")

deny contains lib.finding(
	"DM-S3-003", "critical", r,
	sprintf("S3 %s grants public access through its ACL", [r.name]),
	"Remove the public ACL; keep objectOwnership BucketOwnerEnforced (ACLs disabled) and grant access with IAM instead.",
) if {
	some r in input.resources
	r.type in (s3_bucket_types | s3_acl_types)
	public_acl(r.inputs)
}

public_acl(inputs) if inputs.acl in public_canned_acls

public_acl(inputs) if {
	some grant in inputs.accessControlPolicy.grants
	grant.grantee.uri in public_grantee_uris
}

deny contains lib.finding(
	"DM-S3-004", "critical", r,
	sprintf("S3 bucket policy %s allows Principal \"*\" without a condition", [r.name]),
	"Name the principals in the statement, or add a Condition (aws:SourceVpce, aws:PrincipalOrgID, ...) that narrows it.",
) if {
	some r in input.resources
	r.type in (s3_bucket_types | {"aws:s3/bucketPolicy:BucketPolicy"})
	doc := lib.policy_document(r.inputs.policy)
	some statement in lib.statements(doc)
	statement.Effect == "Allow"
	anyone(statement.Principal)
	not statement.Condition
}

anyone("*")

anyone(principal) if principal.AWS == "*"

anyone(principal) if "*" in principal.AWS

deny contains lib.finding(
	"DM-GCS-001", "high", r,
	sprintf("GCS bucket %s does not enforce public access prevention (publicAccessPrevention is %v)", [r.name, object.get(r.inputs, "publicAccessPrevention", "unset")]),
	"Set publicAccessPrevention to \"enforced\" on the bucket (components/gcp/storage.py does).",
) if {
	some r in lib.resources("gcp:storage/bucket:Bucket")
	object.get(r.inputs, "publicAccessPrevention", "inherited") != "enforced"
}

deny contains lib.finding(
	"DM-GCS-002", "high", r,
	sprintf("GCS bucket %s has uniform bucket-level access off, so object ACLs can make objects public", [r.name]),
	"Set uniformBucketLevelAccess to true on the bucket (components/gcp/storage.py does).",
) if {
	some r in lib.resources("gcp:storage/bucket:Bucket")
	object.get(r.inputs, "uniformBucketLevelAccess", false) != true
}

deny contains lib.finding(
	"DM-GCP-001", "critical", r,
	sprintf("%s grants access to %s", [r.name, concat(", ", sort(members))]),
	"Grant the role to named users, groups or service accounts, never to allUsers or allAuthenticatedUsers.",
) if {
	some r in input.resources
	startswith(r.type, "gcp:")
	members := {m | some m in granted(r.inputs); m in public_members}
	count(members) > 0
}

# Who an IAM member/binding or ACL resource grants to: `member`, `members`, `entity` or `roleEntities` ("ROLE:entity").
granted(inputs) := array.concat(
	array.concat([object.get(inputs, "member", "")], object.get(inputs, "members", [])),
	array.concat([object.get(inputs, "entity", "")], [e | some re in object.get(inputs, "roleEntities", []); e := split(re, ":")[1]]),
)
