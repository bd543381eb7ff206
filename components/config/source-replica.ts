/**
 * Parsing of `sourceReplica`: a recover or drill stack that reads the vault's off-site replica instead of the vault,
 * when the vault's region is down (README, "When the vault's region is down").
 */
import { ConfigReader, q, rmCmd, setCmd } from "./reader";
import type { Mode, ReplicaLocation, VaultSettings, VolumeDataMode } from "./types";
import type { SourceOutputs } from "./vault";
import { KMS_KEY_ARN, isValidBucketName, regionProblem } from "./values";

/** Where IAM's control plane is for the commercial partition (IAM "Resilience in AWS Identity and Access Management"). */
const IAM_CONTROL_PLANE_REGION = "us-east-1";

const REPLICA_KEYS = ["sourceReplicaBucketName", "sourceReplicaRegion", "sourceReplicaKmsKeyArn"] as const;
type ReplicaKey = (typeof REPLICA_KEYS)[number];

/** The source stack's output each key defaults to. */
const OUTPUT_OF: Readonly<Record<ReplicaKey, "replicaBucketName" | "replicaRegion" | "replicaKmsKeyArn">> = {
    sourceReplicaBucketName: "replicaBucketName",
    sourceReplicaRegion: "replicaRegion",
    sourceReplicaKmsKeyArn: "replicaKmsKeyArn",
};

const EXAMPLE: Readonly<Record<ReplicaKey, string>> = {
    sourceReplicaBucketName: "acme-velero-vault-replica",
    sourceReplicaRegion: "eu-central-1",
    sourceReplicaKmsKeyArn: "arn:aws:kms:eu-central-1:111122223333:key/<key-id>",
};

/**
 * The replica a recover or drill stack reads with `sourceReplica` true; undefined otherwise. `vault` is the vault as
 * parsed (its region and bucket, which the replica must differ from); `outputs` the source stack's outputs.
 */
export function parseSourceReplica(
    r: ConfigReader,
    mode: Mode,
    vault: Pick<VaultSettings, "bucketName" | "region">,
    volumeDataMode: VolumeDataMode,
    allowUnlistedRegion: boolean,
    sourceStack: string | undefined,
    outputs: SourceOutputs,
): ReplicaLocation | undefined {
    if (mode === "protect") {
        for (const key of ["sourceReplica", ...REPLICA_KEYS] as const) {
            r.forbidInMode(key, mode, "a protect stack restores only its own backups, from the vault");
        }
        return undefined;
    }
    if (!r.bool("sourceReplica", false)) {
        for (const key of REPLICA_KEYS) {
            if (r.isSet(key)) {
                r.problem(
                    key,
                    `${q(r.explicit(key)!)} is set but sourceReplica is not true, so the backups are read from the vault and this names nothing. Fix: \`${setCmd("sourceReplica", "true")}\` to read the replica, or \`${rmCmd(key)}\`.`,
                );
            }
        }
        return undefined;
    }

    // The vault the backups come from: the source stack's, even when this stack writes its own backups elsewhere
    // while that vault's region is down (README "When the vault's region is down").
    const sourceVault = { region: outputs.region ?? vault.region, bucketName: outputs.bucketName ?? vault.bucketName };
    const value = (key: ReplicaKey) => r.str(key) ?? outputs[OUTPUT_OF[key]];
    const origin = (key: ReplicaKey) =>
        r.isSet(key) ? q(r.explicit(key)!) : `the source stack ${sourceStack ?? ""}'s output ${OUTPUT_OF[key]}`;
    const fromCard = `(the break-glass card's ${REPLICA_KEYS.map((k) => OUTPUT_OF[k]).join(", ")})`;

    if (REPLICA_KEYS.every((key) => value(key) === undefined)) {
        r.problem(
            "sourceReplica",
            sourceStack !== undefined
                ? `is true, but the source stack ${sourceStack} has no replica (no replica, replicaBucketName, replicaRegion or replicaKmsKeyArn output: its protect stack sets no replicaRegion), so there is nothing to read. Fix: \`${rmCmd("sourceReplica")}\` and restore from the vault, or name a replica with \`${setCmd("sourceReplicaBucketName", EXAMPLE.sourceReplicaBucketName)}\`, sourceReplicaRegion and sourceReplicaKmsKeyArn.`
                : `is true, but no replica is named and there is no source stack to read it from. Fix: set sourceReplicaBucketName, sourceReplicaRegion and sourceReplicaKmsKeyArn ${fromCard}, e.g. \`${setCmd("sourceReplicaBucketName", EXAMPLE.sourceReplicaBucketName)}\`.`,
        );
        return undefined;
    }
    if (volumeDataMode === "nativeSnapshots") {
        // Velero's AWS plugin restores a native snapshot in the volume snapshot location's region, and EBS
        // snapshots are never copied by S3 replication: the replica holds the backups' metadata only.
        r.problem(
            "sourceReplica",
            `is true with volumeDataMode nativeSnapshots: the volume data is in EBS snapshots in ${vault.region === "" ? "the vault's region" : vault.region}, which S3 replication does not copy, so a restore from the replica would bring back claims without data. Fix: \`${rmCmd("sourceReplica")}\` and restore from the vault once its region is back.`,
        );
    }
    const missing = (key: ReplicaKey) =>
        r.problem(
            key,
            `is required with sourceReplica true${sourceStack !== undefined ? ` (the source stack ${sourceStack} has no ${OUTPUT_OF[key]} output)` : ""}. Fix: \`${setCmd(key, EXAMPLE[key])}\` ${fromCard}.`,
        );

    const region = value("sourceReplicaRegion");
    let validRegion: string | undefined;
    if (region === undefined) {
        missing("sourceReplicaRegion");
    } else if (regionProblem(region, allowUnlistedRegion) !== undefined) {
        r.problem(
            "sourceReplicaRegion",
            `${origin("sourceReplicaRegion")} ${regionProblem(region, allowUnlistedRegion)!} Fix: \`${setCmd("sourceReplicaRegion", EXAMPLE.sourceReplicaRegion)}\`.`,
        );
    } else if (region === sourceVault.region) {
        r.problem(
            "sourceReplicaRegion",
            `${origin("sourceReplicaRegion")} is the vault's own region: the replica is read when that region is down, so it is elsewhere. Fix: \`${setCmd("sourceReplicaRegion", "<the replica's region>")}\` (the protect stack's replicaRegion).`,
        );
    } else {
        validRegion = region;
    }

    const bucketName = value("sourceReplicaBucketName");
    if (bucketName === undefined) {
        missing("sourceReplicaBucketName");
    } else if (!isValidBucketName(bucketName)) {
        r.problem(
            "sourceReplicaBucketName",
            `${origin("sourceReplicaBucketName")} is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens). Fix: \`${setCmd("sourceReplicaBucketName", EXAMPLE.sourceReplicaBucketName)}\`.`,
        );
    } else if (bucketName === sourceVault.bucketName) {
        r.problem(
            "sourceReplicaBucketName",
            `${origin("sourceReplicaBucketName")} is the vault bucket itself, not its replica. Fix: \`${setCmd("sourceReplicaBucketName", `${bucketName}-replica`)}\` (the protect stack's replicaBucketName output).`,
        );
    }

    const kmsKeyArn = value("sourceReplicaKmsKeyArn");
    const keyMatch = kmsKeyArn === undefined ? null : KMS_KEY_ARN.exec(kmsKeyArn);
    if (kmsKeyArn === undefined) {
        missing("sourceReplicaKmsKeyArn");
    } else if (keyMatch === null) {
        r.problem(
            "sourceReplicaKmsKeyArn",
            `${origin("sourceReplicaKmsKeyArn")} is not a KMS key ARN (an alias cannot be granted in IAM). Fix: \`${setCmd("sourceReplicaKmsKeyArn", EXAMPLE.sourceReplicaKmsKeyArn)}\`.`,
        );
    } else if (validRegion !== undefined && keyMatch[1] !== validRegion) {
        // The replica's objects are encrypted with its own key, in its region (the replication rule's replicaKmsKeyId).
        r.problem(
            "sourceReplicaKmsKeyArn",
            `${origin("sourceReplicaKmsKeyArn")} is a key in ${keyMatch[1]}, but the replica is in ${validRegion}; its objects are encrypted with a key of its own region. Fix: \`${setCmd("sourceReplicaKmsKeyArn", `arn:aws:kms:${validRegion}:${keyMatch[2]}:key/<key-id>`)}\` (the protect stack's replicaKmsKeyArn output).`,
        );
    }
    if (validRegion !== undefined && sourceVault.region === IAM_CONTROL_PLANE_REGION) {
        // IAM's control plane, for every commercial region, is in us-east-1 (IAM "Resilience in AWS Identity and
        // Access Management"): with the vault's region down, this stack cannot create or change its roles and
        // policies, which Velero waits for (the AWS fault isolation whitepaper: no IAM changes in a recovery path).
        r.warn(
            "sourceReplica",
            `reads the replica because the vault's region may be down, but the vault is in ${IAM_CONTROL_PLANE_REGION}, where IAM's control plane is: while that region is down this stack cannot create its IAM role and policies, and Velero waits for them. Fix, ahead of time: a vault outside ${IAM_CONTROL_PLANE_REGION} (README "When the vault's region is down").`,
        );
    }
    return bucketName === undefined || region === undefined || kmsKeyArn === undefined
        ? undefined
        : { bucketName, region, kmsKeyArn };
}
