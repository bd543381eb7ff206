/**
 * What @pulumi/aws 7.48 (terraform-provider-aws v6) returns as a resource's outputs after a create: the inputs as the
 * provider reads them back, plus what AWS computes. Stack policies judge these, not the inputs (pulumi
 * `pkg/resource/deploy/step_generator.go`: "AnalyzeStack is called on the final outputs"), so a policy that reads a
 * field the way the program wrote it can misjudge the live value. Modelled from the provider's read functions:
 *
 * - nested blocks come back with every unset field zero-filled (SDKv2, and the plugin-framework's `legacy` flatten:
 *   a lifecycle `expiration` given only `expiredObjectDeleteMarker` reads back `days: 0`; `filter: {}` reads back
 *   `{ prefix: "" }`; an Object Lock retention given `days` reads back `years: 0`);
 * - a policy document comes back re-marshalled, compact with sorted keys (`verify.PolicyToSet`,
 *   `NormalizeJsonString`), so a string compare with the input fails; `RolePolicy` keeps `Version` first;
 * - a KMS key created without a policy gets AWS's default key policy (the account root may do `kms:*`);
 * - `aws.s3.Bucket` is read right after its own create, before the bucket's versioning, encryption, lifecycle and
 *   policy resources exist: its deprecated inline blocks show AWS's defaults of a new bucket (SSE-S3, versioning
 *   off, no rules), whatever the separate resources configure (tpa `resourceBucketRead`).
 */
import { ACCOUNT } from "./account";

type Json = Record<string, unknown>;

/** JSON with object keys sorted, compact: what `NormalizeJsonString` leaves of a policy document. */
export function normalizedJson(text: string, versionFirst = false): string {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        // An unknown value in a preview: nothing to normalize yet.
        return text;
    }
    const sort = (v: unknown): unknown =>
        Array.isArray(v)
            ? v.map(sort)
            : v !== null && typeof v === "object"
              ? Object.fromEntries(
                    Object.keys(v)
                        .sort((a, b) =>
                            versionFirst && a === "Version"
                                ? -1
                                : versionFirst && b === "Version"
                                  ? 1
                                  : a.localeCompare(b),
                        )
                        .map((k) => [k, sort((v as Json)[k])]),
                )
              : v;
    return JSON.stringify(sort(parsed));
}

/** AWS's default key policy: the account, and so any of its IAM administrators, may do everything. */
export function defaultKeyPolicy(account: string): string {
    return normalizedJson(
        JSON.stringify({
            Version: "2012-10-17",
            Id: "key-default-1",
            Statement: [
                {
                    Sid: "Enable IAM User Permissions",
                    Effect: "Allow",
                    Principal: { AWS: `arn:aws:iam::${account}:root` },
                    Action: "kms:*",
                    Resource: "*",
                },
            ],
        }),
    );
}

const object = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});

/** A lifecycle rule as the provider reads it back. */
function lifecycleRule(rule: Json): Json {
    const expiration = rule.expiration === undefined ? undefined : object(rule.expiration);
    const filter = rule.filter === undefined ? undefined : object(rule.filter);
    return {
        ...rule,
        prefix: rule.prefix ?? "",
        ...(filter === undefined
            ? {}
            : {
                  filter: {
                      ...filter,
                      prefix: filter.prefix ?? "",
                      objectSizeGreaterThan: filter.objectSizeGreaterThan ?? 0,
                      objectSizeLessThan: filter.objectSizeLessThan ?? 0,
                  },
              }),
        ...(expiration === undefined
            ? {}
            : {
                  expiration: {
                      date: expiration.date ?? "",
                      days: expiration.days ?? 0,
                      expiredObjectDeleteMarker: expiration.expiredObjectDeleteMarker ?? false,
                  },
              }),
        ...(rule.transitions === undefined
            ? {}
            : {
                  transitions: (rule.transitions as Json[]).map((t) => ({
                      date: t.date ?? "",
                      days: t.days ?? 0,
                      storageClass: t.storageClass,
                  })),
              }),
    };
}

/**
 * The outputs of an AWS resource: the inputs as read back, plus computed attributes. `name` is the Pulumi name (for
 * ids), `region` the resource's or the provider's.
 */
export function awsOutputs(
    type: string,
    name: string,
    inputs: Json,
    region: string,
    account: string = ACCOUNT,
): { id: string; state: Json } {
    switch (type) {
        case "aws:s3/bucket:Bucket": {
            const bucket = typeof inputs.bucket === "string" ? inputs.bucket : `${name}-mock`;
            return {
                id: bucket,
                state: {
                    ...inputs,
                    bucket,
                    arn: `arn:aws:s3:::${bucket}`,
                    bucketRegion: region,
                    region,
                    bucketDomainName: `${bucket}.s3.amazonaws.com`,
                    bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
                    objectLockEnabled: inputs.objectLockEnabled ?? false,
                    forceDestroy: inputs.forceDestroy ?? false,
                    // Read right after the bucket's own create: a new bucket's defaults.
                    versioning: { enabled: false, mfaDelete: false },
                    serverSideEncryptionConfiguration: {
                        rule: {
                            applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256", kmsMasterKeyId: "" },
                            bucketKeyEnabled: false,
                        },
                    },
                    lifecycleRules: [],
                    corsRules: [],
                    policy: "",
                    objectLockConfiguration:
                        inputs.objectLockEnabled === true ? { objectLockEnabled: "Enabled" } : undefined,
                    requestPayer: "BucketOwner",
                    tagsAll: object(inputs.tags),
                },
            };
        }
        case "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration":
            return {
                id: String(inputs.bucket),
                state: {
                    ...inputs,
                    region,
                    expectedBucketOwner: "",
                    transitionDefaultMinimumObjectSize:
                        inputs.transitionDefaultMinimumObjectSize ?? "all_storage_classes_128K",
                    rules: ((inputs.rules ?? []) as Json[]).map(lifecycleRule),
                },
            };
        case "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": {
            const retention = object(object(inputs.rule).defaultRetention);
            return {
                id: String(inputs.bucket),
                state: {
                    ...inputs,
                    region,
                    objectLockEnabled: "Enabled",
                    rule: {
                        defaultRetention: {
                            mode: retention.mode,
                            days: retention.days ?? 0,
                            years: retention.years ?? 0,
                        },
                    },
                },
            };
        }
        case "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
            return {
                id: String(inputs.bucket),
                state: {
                    ...inputs,
                    region,
                    rules: ((inputs.rules ?? []) as Json[]).map((r) => ({
                        ...r,
                        bucketKeyEnabled: r.bucketKeyEnabled ?? false,
                        blockedEncryptionTypes: r.blockedEncryptionTypes ?? [],
                        applyServerSideEncryptionByDefault: {
                            kmsMasterKeyId: "",
                            ...object(r.applyServerSideEncryptionByDefault),
                        },
                    })),
                },
            };
        case "aws:s3/bucketVersioning:BucketVersioning":
            return {
                id: String(inputs.bucket),
                state: {
                    ...inputs,
                    region,
                    versioningConfiguration: { mfaDelete: "", ...object(inputs.versioningConfiguration) },
                },
            };
        case "aws:s3/bucketPolicy:BucketPolicy":
            return {
                id: String(inputs.bucket),
                state: { ...inputs, region, policy: normalizedJson(String(inputs.policy)) },
            };
        case "aws:kms/key:Key":
            return {
                id: `${name}-id`,
                state: {
                    ...inputs,
                    region,
                    arn: `arn:aws:kms:${region}:${account}:key/${name}-id`,
                    keyId: `${name}-id`,
                    description: inputs.description ?? "",
                    keyUsage: "ENCRYPT_DECRYPT",
                    customerMasterKeySpec: "SYMMETRIC_DEFAULT",
                    isEnabled: inputs.isEnabled ?? true,
                    multiRegion: inputs.multiRegion ?? false,
                    enableKeyRotation: inputs.enableKeyRotation ?? false,
                    rotationPeriodInDays: inputs.enableKeyRotation === true ? (inputs.rotationPeriodInDays ?? 365) : 0,
                    policy:
                        typeof inputs.policy === "string" ? normalizedJson(inputs.policy) : defaultKeyPolicy(account),
                },
            };
        case "aws:iam/role:Role":
        case "aws:iam/policy:Policy": {
            const role = type === "aws:iam/role:Role";
            const iamName =
                typeof inputs.name === "string"
                    ? inputs.name
                    : typeof inputs.namePrefix === "string"
                      ? `${inputs.namePrefix}20261202000000000000000001`
                      : name;
            const common = {
                ...inputs,
                name: iamName,
                arn: `arn:aws:iam::${account}:${role ? "role" : "policy"}/${iamName}`,
                path: "/",
            };
            return {
                id: iamName,
                state: role
                    ? {
                          ...common,
                          assumeRolePolicy: normalizedJson(String(inputs.assumeRolePolicy)),
                          uniqueId: "AROAEXAMPLE",
                          maxSessionDuration: 3600,
                          managedPolicyArns: [],
                          inlinePolicies: [],
                      }
                    : {
                          ...common,
                          policy: normalizedJson(String(inputs.policy)),
                          policyId: "ANPAEXAMPLE",
                          attachmentCount: 0,
                      },
            };
        }
        case "aws:iam/user:User": {
            const userName = String(inputs.name);
            return {
                id: userName,
                state: { ...inputs, path: inputs.path ?? "/", arn: `arn:aws:iam::${account}:user/${userName}` },
            };
        }
        case "aws:iam/accessKey:AccessKey":
            // The key id is the resource's id; the secret is computed, and the provider marks it secret
            // (`additionalSecretOutputs`), which the program must not rely on: it wraps it itself.
            return {
                id: `AKIA${name
                    .replace(/[^A-Za-z0-9]/g, "")
                    .toUpperCase()
                    .slice(0, 16)}`,
                state: { ...inputs, secret: `${name}-secret-access-key`, status: "Active" },
            };
        case "aws:iam/rolePolicy:RolePolicy":
            return {
                id: `${String(inputs.role)}:${typeof inputs.name === "string" ? inputs.name : name}`,
                state: { ...inputs, policy: normalizedJson(String(inputs.policy), true) },
            };
        case "aws:sns/topic:Topic": {
            const str = (v: unknown) => (typeof v === "string" ? v : undefined);
            const topicName = typeof inputs.name === "string" ? inputs.name : `${str(inputs.namePrefix) ?? name}0001`;
            const arn = `arn:aws:sns:${region}:${account}:${topicName}`;
            return { id: arn, state: { ...inputs, region, name: topicName, arn } };
        }
        case "aws:cloudtrail/trail:Trail": {
            const trailName = typeof inputs.name === "string" ? inputs.name : name;
            const arn = `arn:aws:cloudtrail:${region}:${account}:trail/${trailName}`;
            return { id: trailName, state: { ...inputs, region, arn } };
        }
        case "aws:cloudwatch/eventRule:EventRule": {
            const ruleName = typeof inputs.name === "string" ? inputs.name : `${name}-0001`;
            const arn = `arn:aws:events:${region}:${account}:rule/${ruleName}`;
            return { id: ruleName, state: { ...inputs, region, name: ruleName, arn } };
        }
        default:
            return { id: `${name}-id`, state: { ...inputs, ...(type.startsWith("aws:s3/") ? { region } : {}) } };
    }
}
