// @ts-check
/**
 * What a restore that ended left to check, before Argo CD may sync. Velero counts warnings in the Restore's status
 * but says what they are only in the restore's results in the bucket (velero `pkg/util/results`, uploaded by
 * `restore_controller.go` `putResults`); with existingResourcePolicy `none`, an item that already existed and
 * differs is such a warning (`pkg/restore/restore.go`: "could not restore, <Kind> "<name>" already exists"): a
 * claim recreated empty, a Secret cert-manager reissued, a claim an earlier failed restore left. The task reads
 * them, and the claims the restore created:
 *
 * - the backup Velero restored must be the one the checks before the restore looked at: `scheduleName` makes
 *   Velero choose again when it validates the Restore (`validateAndComplete`), and a newer backup can have been
 *   synced in between (prod keeps backing up during a drill);
 * - warnings stop the rebuild, each named, unless accepted (`gitops-dr:acceptRestoreWarnings`), except those for
 *   items an earlier attempt of this stack restored (a retry meets each of them: they exist and differ, a bound
 *   claim most of all), whose claims must be Bound;
 * - a restored claim that is not Bound holds no data, whatever the restore's phase: it stops the rebuild too,
 *   except the claims a drill quarantined on purpose (pre-restore.js), which it lists. A claim of a class with
 *   Immediate binding may still be binding when the restore ends: it is given a few minutes.
 * - every volume of a vessel (components/restore/vessels.ts) must have a Completed PodVolumeRestore of this restore
 *   (`pod_volume_restore_controller.go`): otherwise its claim is bound but empty. Then the vessels are deleted, so
 *   that the workloads Argo CD creates take their claims by name; the task waits until they are gone. They are
 *   deleted whatever the checks found: a vessel holds nothing once the restore ended.
 */
"use strict";

const { download } = require("./kube");
const { QUARANTINED_LABEL, VESSEL_LABEL } = require("./labels");
const { RESTORE_NAME_LABEL, TaskFailure } = require("./pre-restore");

/** How long a restored claim may take to bind after the restore ended. */
const BIND_WAIT_MS = 3 * 60 * 1000;

/**
 * Where the API serves the kinds an earlier attempt leaves changed. A claim the first attempt restored is bound
 * since (its volume name and binding annotations differ from the backup's), and so is its volume; an unchanged
 * Secret is skipped without a warning ("the same as the backed up version", `restore.go`), so the task never needs
 * to read a Secret.
 */
/** The warning of a pod's PriorityClass that is not in the backup (an additional item the backups never hold). */
const PRIORITY_CLASS_NOT_IN_BACKUP =
    /resources\/priorityclasses\.scheduling\.k8s\.io\/cluster\/[^/\s]+\.json: no such file or directory/;

const KIND_PATHS = /** @type {Record<string, (ns: string, name: string) => string>} */ ({
    PersistentVolumeClaim: (ns, name) => `/api/v1/namespaces/${ns}/persistentvolumeclaims/${name}`,
    PersistentVolume: (_ns, name) => `/api/v1/persistentvolumes/${name}`,
});

/**
 * @typedef {import("./kube").KubeApi} KubeApi
 * @typedef {import("./kube").KubeObject} KubeObject
 * @typedef {object} PostRestoreArgs
 * @property {string} veleroNamespace
 * @property {string} restoreName
 * @property {string} restorePrefix Restores of this stack are named `<restorePrefix><id>`.
 * @property {string} expectedBackup The backup the checks before the restore looked at.
 * @property {boolean} acceptWarnings
 * @property {string} [hint] What usually causes warnings in this kind of restore, for the message.
 * @property {Vessel[]} [vessels] Pods restored with file-system backup data, in the namespaces they are restored to.
 *
 * @typedef {object} Vessel
 * @property {string} namespace
 * @property {string} name
 * @property {{ volume: string, claim: string }[]} volumes Its volumes that hold data, and their claims.
 *
 * @typedef {object} PostRestoreResult
 * @property {string[]} warnings Every warning of the restore that counts (accepted when there are any).
 * @property {string[]} retried Items an earlier attempt of this stack restored, kept as they are.
 * @property {number} claims Claims the restore created.
 * @property {string[]} quarantinedClaims Claims left without data on purpose (a drill).
 * @property {string[]} filledClaims Claims file-system backup data was restored into, through a vessel.
 * @property {string[]} removedVessels Vessels deleted once the restore ended.
 * @property {DataMovement} dataMovement What the restore's DataDownloads report.
 *
 * @typedef {object} DataMovement
 * @property {number} volumes DataDownloads of the restore: claims whose data was moved.
 * @property {number} completed
 * @property {number} failed Failed or Canceled.
 * @property {number} totalBytes Sum of `status.progress.totalBytes`.
 * @property {number} bytesDone Sum of `status.progress.bytesDone`.
 * @property {string} [startTimestamp] The first DataDownload's start.
 * @property {string} [completionTimestamp] The last DataDownload's end.
 */

/** How long deleted vessels may take to go. */
const VESSEL_GONE_MS = 2 * 60 * 1000;

/**
 * The claims of the vessels whose data did not arrive: no PodVolumeRestore of this restore for the volume, or one
 * that did not complete (phases `pkg/apis/velero/v1/pod_volume_restore_type.go`).
 * @param {KubeApi} api
 * @param {PostRestoreArgs} args
 * @returns {Promise<{ filled: string[], empty: string[] }>}
 */
async function vesselData(api, args) {
    const restores = await api.list(
        `/apis/velero.io/v1/namespaces/${args.veleroNamespace}/podvolumerestores`,
        `${RESTORE_NAME_LABEL}=${args.restoreName}`,
    );
    /** @type {string[]} */
    const filled = [];
    /** @type {string[]} */
    const empty = [];
    for (const v of args.vessels ?? []) {
        for (const { volume, claim } of v.volumes) {
            const pvr = restores.find(
                (r) =>
                    r.spec?.pod?.namespace === v.namespace && r.spec?.pod?.name === v.name && r.spec?.volume === volume,
            );
            const id = `${v.namespace}/${claim}`;
            if (pvr?.status?.phase === "Completed") {
                filled.push(id);
            } else {
                empty.push(
                    `${id} (pod ${v.name}, volume ${volume}: ${pvr === undefined ? "no PodVolumeRestore" : `PodVolumeRestore ${pvr.metadata?.name} ${pvr.status?.phase ?? "New"}`})`,
                );
            }
        }
    }
    return { filled: filled.sort(), empty };
}

/**
 * Deletes this restore's vessels and waits until they are gone; throws when they do not go.
 * @param {KubeApi} api
 * @param {PostRestoreArgs} args
 * @returns {Promise<string[]>}
 */
async function removeVessels(api, args) {
    const selector = `${VESSEL_LABEL}=true,${RESTORE_NAME_LABEL}=${args.restoreName}`;
    const vessels = await api.list("/api/v1/pods", selector);
    for (const p of vessels) {
        await api.remove(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
    }
    const deadline = api.now().getTime() + VESSEL_GONE_MS;
    let left = await api.list("/api/v1/pods", selector);
    while (left.length > 0 && api.now().getTime() < deadline) {
        await api.sleep(5000);
        left = await api.list("/api/v1/pods", selector);
    }
    if (left.length > 0) {
        throw new TaskFailure(
            `The vessels of restore ${args.restoreName} are still there: ${left.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(", ")}. ` +
                `A StatefulSet cannot create its pod under a vessel's name. Read: \`kubectl get pods -A -l ${selector}\`; delete them and run pulumi up again.`,
        );
    }
    return vessels.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort();
}

/**
 * The warnings of a restore's results: where (a namespace, or "" for Velero's and the cluster's) and the message.
 * @param {{ velero?: string[], cluster?: string[], namespaces?: Record<string, string[]> } | undefined | null} section
 * @returns {{ namespace: string, message: string, line: string }[]}
 */
function lines(section) {
    if (section === undefined || section === null) {
        return [];
    }
    return [
        ...(section.velero ?? []).map((m) => ({ namespace: "", message: m, line: `velero: ${m}` })),
        ...(section.cluster ?? []).map((m) => ({ namespace: "", message: m, line: `cluster: ${m}` })),
        ...Object.entries(section.namespaces ?? {}).flatMap(([ns, ms]) =>
            ms.map((m) => ({ namespace: ns, message: m, line: `${ns}: ${m}` })),
        ),
    ];
}

/**
 * Whether a warning is about an item an earlier attempt of this stack restored: "already exists", and the live
 * object carries the `velero.io/restore-name` label of another restore of this stack. Such a claim must be Bound.
 * @param {KubeApi} api
 * @param {PostRestoreArgs} args
 * @param {{ namespace: string, message: string }} warning
 * @returns {Promise<boolean>}
 */
async function restoredByEarlierAttempt(api, args, warning) {
    const m = /^could not restore, (\w+) "([^"]+)" already exists/.exec(warning.message);
    const path = m === null ? undefined : KIND_PATHS[m[1]]?.(warning.namespace, m[2]);
    if (m === null || path === undefined) {
        return false;
    }
    const live = await api.get(path);
    const by = live?.metadata?.labels?.[RESTORE_NAME_LABEL] ?? "";
    const earlier = by !== args.restoreName && by.startsWith(args.restorePrefix);
    return earlier && (m[1] !== "PersistentVolumeClaim" || live?.status?.phase === "Bound");
}

/**
 * What the restore's DataDownloads report (velero v1.18.1 `pkg/apis/velero/v2alpha1/data_download_types.go`): one
 * per restored claim whose data was moved, labelled with the restore's name and owned by the Restore
 * (`pkg/restore/actions/csi/pvc_action.go` `newDataDownload`); `status.progress` holds `totalBytes` and
 * `bytesDone`. What a drill measures, to check the recovery-time estimate (`npm run plan`) against.
 * @param {KubeApi} api
 * @param {string} ns
 * @param {string} restoreName
 * @returns {Promise<DataMovement>}
 */
async function dataMovementOf(api, ns, restoreName) {
    const downloads = await api.list(
        `/apis/velero.io/v2alpha1/namespaces/${ns}/datadownloads`,
        `${RESTORE_NAME_LABEL}=${restoreName}`,
    );
    /** @param {string} field */
    const times = (field) =>
        downloads
            .map((d) => d.status?.[field])
            .filter((t) => typeof t === "string")
            .sort((a, b) => Date.parse(a) - Date.parse(b));
    const starts = times("startTimestamp");
    const ends = times("completionTimestamp");
    /** @param {string} field */
    const sum = (field) => downloads.reduce((n, d) => n + Number(d.status?.progress?.[field] ?? 0), 0);
    return {
        volumes: downloads.length,
        completed: downloads.filter((d) => d.status?.phase === "Completed").length,
        failed: downloads.filter((d) => ["Failed", "Canceled"].includes(d.status?.phase)).length,
        totalBytes: sum("totalBytes"),
        bytesDone: sum("bytesDone"),
        ...(starts.length > 0 ? { startTimestamp: starts[0] } : {}),
        ...(ends.length > 0 ? { completionTimestamp: ends[ends.length - 1] } : {}),
    };
}

/**
 * @param {KubeApi} api
 * @param {PostRestoreArgs} args
 * @returns {Promise<PostRestoreResult>}
 */
async function postRestore(api, args) {
    const vessels = args.vessels ?? [];
    if (vessels.length === 0) {
        return checkRestore(api, args);
    }
    const data = await vesselData(api, args);
    // Deleted whatever the checks find: a vessel holds nothing once the restore ended, and one left behind would
    // keep a StatefulSet's pod of the same name from being created.
    const removedVessels = await removeVessels(api, args);
    if (data.empty.length > 0) {
        throw new TaskFailure(
            `Restore ${args.restoreName} left ${data.empty.length} claim${data.empty.length === 1 ? "" : "s"} without the file-system backup data the backup holds: ${data.empty.slice(0, 20).join(", ")}. ` +
                `Argo CD was not allowed to sync. Read: \`velero restore describe ${args.restoreName} --details -n ${args.veleroNamespace}\` and \`kubectl get podvolumerestores -n ${args.veleroNamespace} -l ${RESTORE_NAME_LABEL}=${args.restoreName}\`. ` +
                "Fix the cause (the node agent must run on the vessels' nodes) and set a new gitops-dr:restoreId.",
        );
    }
    return { ...(await checkRestore(api, args)), filledClaims: data.filled, removedVessels };
}

/**
 * @param {KubeApi} api
 * @param {PostRestoreArgs} args
 * @returns {Promise<PostRestoreResult>}
 */
async function checkRestore(api, args) {
    const ns = args.veleroNamespace;
    const read = `velero restore describe ${args.restoreName} --details -n ${ns}`;
    const restore = await api.get(`/apis/velero.io/v1/namespaces/${ns}/restores/${args.restoreName}`);
    const restored = restore?.spec?.backupName ?? "";
    if (restored !== args.expectedBackup) {
        throw new TaskFailure(
            `Restore ${args.restoreName} restored backup ${restored || "(none)"}, not ${args.expectedBackup}, the one the checks before it looked at: a newer backup was synced in between. ` +
                "What those checks found (volumes to quarantine, StorageClasses, older backups) may not hold for it. Set a new gitops-dr:restoreId to check and restore again.",
        );
    }
    const results = JSON.parse((await download(api, ns, "RestoreResults", args.restoreName)).toString("utf8") || "{}");
    /** @type {string[]} */
    const warnings = [];
    /** @type {string[]} */
    const retried = [];
    for (const w of lines(results.warnings)) {
        // A restored pod (a vessel) asks for its PriorityClass as an additional item (velero v1.18.1
        // pkg/restore/actions/pod_action.go), which the backups never hold: restore.go warns "unable to restore
        // additional item" with the archive's stat error. The vessel runs without it; nothing was lost.
        if (PRIORITY_CLASS_NOT_IN_BACKUP.test(w.line)) {
            continue;
        }
        ((await restoredByEarlierAttempt(api, args, w)) ? retried : warnings).push(w.line);
    }

    /** @param {KubeObject} c */
    const id = (c) => `${c.metadata.namespace}/${c.metadata.name}`;
    const selector = `${RESTORE_NAME_LABEL}=${args.restoreName}`;
    let claims = await api.list("/api/v1/persistentvolumeclaims", selector);
    /** @param {KubeObject[]} all */
    const unboundOf = (all) =>
        all.filter((c) => c.metadata?.labels?.[QUARANTINED_LABEL] !== "true" && c.status?.phase !== "Bound");
    const deadline = api.now().getTime() + BIND_WAIT_MS;
    while (unboundOf(claims).length > 0 && api.now().getTime() < deadline) {
        await api.sleep(10000);
        claims = await api.list("/api/v1/persistentvolumeclaims", selector);
    }
    const unbound = unboundOf(claims);
    if (unbound.length > 0) {
        throw new TaskFailure(
            `Restore ${args.restoreName} left ${unbound.length} claim${unbound.length === 1 ? "" : "s"} unbound, so without data: ` +
                `${unbound
                    .slice(0, 20)
                    .map((c) => `${id(c)} (${c.status?.phase ?? "no phase"})`)
                    .join(", ")}${unbound.length > 20 ? ", ..." : ""}. ` +
                `Argo CD was not allowed to sync. Read: \`${read}\` and \`kubectl get datadownloads -n ${ns}\`. ` +
                "Fix the cause and set a new gitops-dr:restoreId: the next run removes claims this restore left unbound before it restores again.",
        );
    }
    if (warnings.length > 0 && !args.acceptWarnings) {
        const shown = warnings.slice(0, 15);
        throw new TaskFailure(
            `Restore ${args.restoreName} ended Completed with ${warnings.length} warning${warnings.length === 1 ? "" : "s"}, so something was not restored: ` +
                `${shown.join("; ")}${warnings.length > shown.length ? `; and ${warnings.length - shown.length} more` : ""}. ` +
                `${args.hint ?? ""}Read all: \`${read}\`. To let Argo CD sync anyway: \`pulumi config set gitops-dr:acceptRestoreWarnings true\` and run pulumi up again.`,
        );
    }
    const quarantined = claims.filter((c) => c.metadata?.labels?.[QUARANTINED_LABEL] === "true");
    return {
        warnings,
        retried,
        claims: claims.length,
        quarantinedClaims: quarantined.map(id).sort(),
        filledClaims: [],
        removedVessels: [],
        dataMovement: await dataMovementOf(api, ns, args.restoreName),
    };
}

module.exports = { postRestore };
