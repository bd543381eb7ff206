// @ts-check
/**
 * What a restore that ended left to check, before Argo CD may sync. Velero counts warnings in the Restore's status
 * but says what they are only in the restore's results in the bucket (velero `pkg/util/results`, uploaded by
 * `restore_controller.go` `putResults`); with existingResourcePolicy `none`, an item that already existed and
 * differs is such a warning (`pkg/restore/restore.go`): a claim recreated empty, a Secret cert-manager reissued, a
 * claim an earlier failed restore left (the retry path). The task reads them, and the claims the restore created:
 *
 * - warnings stop the rebuild, each named, unless accepted (`gitops-dr:acceptRestoreWarnings`);
 * - a restored claim that is not Bound holds no data, whatever the restore's phase: it stops the rebuild too,
 *   except the claims a drill quarantined on purpose (pre-restore.js), which it lists.
 */
"use strict";

const { download } = require("./kube");
const { QUARANTINED_LABEL } = require("./labels");
const { RESTORE_NAME_LABEL, TaskFailure } = require("./pre-restore");

/**
 * @typedef {import("./kube").KubeApi} KubeApi
 * @typedef {object} PostRestoreArgs
 * @property {string} veleroNamespace
 * @property {string} restoreName
 * @property {boolean} acceptWarnings
 * @property {string} [hint] What usually causes warnings in this kind of restore, for the message.
 *
 * @typedef {object} PostRestoreResult
 * @property {string[]} warnings Every warning of the restore (accepted when there are any).
 * @property {number} claims Claims the restore created.
 * @property {string[]} quarantinedClaims Claims left without data on purpose (a drill).
 */

/**
 * The warnings of a restore's results, one line each: `<where>: <message>`.
 * @param {{ velero?: string[], cluster?: string[], namespaces?: Record<string, string[]> } | undefined} section
 * @returns {string[]}
 */
function lines(section) {
    if (section === undefined || section === null) {
        return [];
    }
    return [
        ...(section.velero ?? []).map((m) => `velero: ${m}`),
        ...(section.cluster ?? []).map((m) => `cluster: ${m}`),
        ...Object.entries(section.namespaces ?? {}).flatMap(([ns, ms]) => ms.map((m) => `${ns}: ${m}`)),
    ];
}

/**
 * @param {KubeApi} api
 * @param {PostRestoreArgs} args
 * @returns {Promise<PostRestoreResult>}
 */
async function postRestore(api, args) {
    const ns = args.veleroNamespace;
    const read = `velero restore describe ${args.restoreName} --details -n ${ns}`;
    const results = JSON.parse((await download(api, ns, "RestoreResults", args.restoreName)).toString("utf8") || "{}");
    const warnings = lines(results.warnings);
    const claims = await api.list("/api/v1/persistentvolumeclaims", `${RESTORE_NAME_LABEL}=${args.restoreName}`);
    const quarantined = claims.filter((c) => c.metadata?.labels?.[QUARANTINED_LABEL] === "true");
    const unbound = claims.filter(
        (c) => c.metadata?.labels?.[QUARANTINED_LABEL] !== "true" && c.status?.phase !== "Bound",
    );
    /** @param {import("./kube").KubeObject} c */
    const id = (c) => `${c.metadata.namespace}/${c.metadata.name}`;
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
    return { warnings, claims: claims.length, quarantinedClaims: quarantined.map(id).sort() };
}

module.exports = { postRestore };
