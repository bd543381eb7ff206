import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { arr, at, bool, str } from "../lib/values";
import { dataSchedules, releasesOf, valuesOf } from "../lib/velero";
import { T } from "../lib/types";

/**
 * Every schedule saves volume data: from CSI snapshots moved into the vault (the data mover) or native snapshots.
 * File-system backup is for the volumes that cannot be snapshotted, chosen by the volume policy
 * (gitops-dr:fileSystemBackupVolumeTypes); `defaultVolumesToFsBackup` would send every other volume there too, and
 * file-system backup saves nothing for a volume whose pod the backup does not hold or that is not running (DESIGN §2).
 */
export const veleroScheduleVolumeData: StackValidationPolicy = {
    name: "velero-schedule-volume-data",
    description:
        "Checks that every backup schedule saves volume data, through the CSI snapshot data mover or native snapshots, with what each needs deployed.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        const must =
            "Every backup schedule must save volume data: CSI snapshots moved into the vault by the data mover, or native snapshots.";
        const release = releasesOf(view, "velero")[0];
        const values = release === undefined ? {} : valuesOf(release);
        const defaultMove = bool(at(values, "configuration", "defaultSnapshotMoveData")) ?? false;
        const nativeLocations =
            (arr(at(values, "configuration", "volumeSnapshotLocation")) ?? []).length > 0 &&
            bool(values.snapshotsEnabled) !== false;
        const native = nativeLocations || view.ofType(T.volumeSnapshotLocation).length > 0;
        for (const s of dataSchedules(view)) {
            const t = s.template;
            if (t.snapshotVolumes === false) {
                report(
                    violation(
                        must,
                        `${s.where} sets snapshotVolumes false`,
                        "Remove snapshotVolumes: false from the template (gitops-dr:volumeDataMode chooses how volumes are saved).",
                    ),
                    s.node.urn,
                );
                continue;
            }
            if (t.defaultVolumesToFsBackup === true) {
                report(
                    violation(
                        must,
                        `${s.where} sets defaultVolumesToFsBackup true, which sends every volume to file-system backup, and that saves no data for a volume no running pod of the backup mounts`,
                        "Set defaultVolumesToFsBackup: false and use the data mover (gitops-dr:volumeDataMode dataMover); volumes that cannot be snapshotted go to file-system backup by volume policy (gitops-dr:fileSystemBackupVolumeTypes).",
                    ),
                    s.node.urn,
                );
                continue;
            }
            const moves = bool(t.snapshotMoveData) ?? defaultMove;
            if (!moves && !native) {
                report(
                    violation(
                        must,
                        `${s.where} neither moves snapshot data (snapshotMoveData) nor has a volume snapshot location`,
                        "Set gitops-dr:volumeDataMode to dataMover (snapshotMoveData: true), or to nativeSnapshots.",
                    ),
                    s.node.urn,
                );
                continue;
            }
            if (moves && release !== undefined) {
                const missing: string[] = [];
                if (bool(values.deployNodeAgent) !== true) {
                    missing.push("does not deploy the node agent (deployNodeAgent)");
                }
                if (
                    !(str(at(values, "configuration", "features")) ?? "")
                        .split(",")
                        .map((f) => f.trim())
                        .includes("EnableCSI")
                ) {
                    missing.push("does not enable the EnableCSI feature (configuration.features)");
                }
                if (missing.length > 0) {
                    report(
                        violation(
                            must,
                            `${s.where} moves snapshot data but ${label(release)} ${missing.join(" and ")}`,
                            "Set deployNodeAgent: true and add EnableCSI to configuration.features (gitops-dr does with gitops-dr:volumeDataMode dataMover).",
                        ),
                        release.urn,
                    );
                }
            }
        }
    }),
};
