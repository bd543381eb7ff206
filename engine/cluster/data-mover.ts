/** Velero's data mover as the simulated cluster runs it: the DataDownloads of a restore, as they end. */
import type { KubeObject } from "./store";

/**
 * The DataDownload Velero creates for a restored claim whose data was moved (velero v1.18.1
 * `pkg/restore/actions/csi/pvc_action.go` `newDataDownload`: in the Restore's namespace, labelled with its name,
 * the Restore's uploaderConfig as dataMoverConfig), as it ends: Completed with every byte, or Failed part-way for
 * a claim the scenario leaves without data. Its size is the backup's (`snapshotDataMovementInfo.size`).
 */
export function dataDownload(
    restore: KubeObject,
    claim: KubeObject,
    info: KubeObject,
    failed: boolean,
    at: { start: string; end: string },
    index: number,
): KubeObject {
    const size = Number(info.snapshotDataMovementInfo?.size ?? 0);
    const parallel = restore.spec?.uploaderConfig?.parallelFilesDownload as number | undefined;
    return {
        apiVersion: "velero.io/v2alpha1",
        kind: "DataDownload",
        metadata: {
            name: `${String(restore.metadata.name)}-${index}`,
            namespace: restore.metadata.namespace,
            labels: { "velero.io/restore-name": restore.metadata.name },
        },
        spec: {
            targetVolume: { pvc: claim.metadata.name, namespace: claim.metadata.namespace },
            snapshotSize: size,
            ...(parallel === undefined ? {} : { dataMoverConfig: { ParallelFilesDownload: String(parallel) } }),
        },
        status: {
            phase: failed ? "Failed" : "Completed",
            progress: { totalBytes: size, bytesDone: failed ? Math.floor(size / 2) : size },
            startTimestamp: at.start,
            completionTimestamp: at.end,
        },
    };
}
