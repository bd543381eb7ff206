/**
 * The backup storage locations per mode: the ReadWrite `default` one a cluster writes to (chart values) and the
 * ReadOnly `source` one it restores from (a Pulumi resource, the restore's sync barrier).
 */
import { SOURCE_LOCATION, WRITE_LOCATION } from "./names";
import type { VeleroValuesInput } from "./values";

export interface LocationValues {
    name: string;
    provider: "aws";
    bucket: string;
    prefix: string;
    default: boolean;
    accessMode: "ReadWrite" | "ReadOnly";
    config: { region: string; kmsKeyId: string };
}

/**
 * The backup storage locations per mode, as chart values. A drill has only the read-only one; recover has both.
 * The chart renders only the ReadWrite one ({@link chartLocations}); the ReadOnly `source` location is a Pulumi
 * resource whose readiness is the restore's sync barrier ({@link sourceLocationSpec}).
 */
export function backupStorageLocations(input: VeleroValuesInput): LocationValues[] {
    const vault = { bucketName: input.bucketName, region: input.region, kmsKeyArn: input.kmsKeyArn };
    // What the stack restores from: the vault, or its off-site replica (`sourceReplica`) when the vault's region is down.
    const source = input.sourceStorage ?? vault;
    const location = (
        name: string,
        prefix: string | undefined,
        accessMode: LocationValues["accessMode"],
        isDefault: boolean,
    ): LocationValues => {
        const storage = name === SOURCE_LOCATION ? source : vault;
        if (prefix === undefined) {
            throw new Error(`the ${name} backup location needs a prefix in ${input.mode} mode`);
        }
        return {
            name,
            provider: "aws",
            bucket: storage.bucketName,
            prefix,
            default: isDefault,
            accessMode,
            // checksumAlgorithm is left out on purpose: the plugin's default (CRC32) is what a PutObject on an
            // Object Lock bucket needs; "" would switch checksums off (velero-plugin-for-aws PR #193).
            config: { region: storage.region, kmsKeyId: storage.kmsKeyArn },
        };
    };
    switch (input.mode) {
        case "protect":
            return [location(WRITE_LOCATION, input.writePrefix, "ReadWrite", true)];
        case "recover":
            // The lost cluster's backups are only ever read: its prefix gets a ReadOnly location, and the new
            // cluster's own schedules write to a different prefix.
            return [
                location(WRITE_LOCATION, input.writePrefix, "ReadWrite", true),
                location(SOURCE_LOCATION, input.sourcePrefix, "ReadOnly", false),
            ];
        case "drill":
            return [location(SOURCE_LOCATION, input.sourcePrefix, "ReadOnly", true)];
        default: {
            const unreachable: never = input.mode;
            throw new Error(`unhandled mode ${String(unreachable)}`);
        }
    }
}

/** The locations the chart creates: the ReadWrite one, when the mode writes backups. */
export function chartLocations(input: VeleroValuesInput): LocationValues[] {
    return backupStorageLocations(input).filter((l) => l.accessMode === "ReadWrite");
}

/** The `velero.io/v1 BackupStorageLocation` spec of a location (../shared/reference/velero-1.18-crds). */
export function locationSpec(l: LocationValues): Record<string, unknown> {
    return {
        provider: l.provider,
        objectStorage: { bucket: l.bucket, prefix: l.prefix },
        config: l.config,
        accessMode: l.accessMode,
        default: l.default,
    };
}
