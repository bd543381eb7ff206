/** Parsing of the StorageClasses a protect stack accepts without data in its backups (components/velero/preflight.ts). */
import { ConfigReader, q } from "./reader";
import type { Mode, StoragePreflightSettings } from "./types";

/** A StorageClass name: a DNS subdomain (at most 253; lowercase letters, digits, `-` and `.`). */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The preflight's name for volumes of no StorageClass (`storageClassName: ""`), components/tasks/storage-preflight.js. */
export const NO_STORAGE_CLASS = "<no class>";

/** The preflight's settings: protect only (a recover or drill stack restores; its own backups start after). */
export function parseStoragePreflight(r: ConfigReader, mode: Mode): StoragePreflightSettings | undefined {
    if (mode !== "protect") {
        r.forbidInMode(
            "storageClassesWithoutData",
            mode,
            "only a protect stack checks its StorageClasses before its first backup",
        );
        return undefined;
    }
    const acknowledged = r.list("storageClassesWithoutData", ["local-path"]);
    const seen = new Set<string>();
    for (const name of acknowledged) {
        if (name !== NO_STORAGE_CLASS && (!SUBDOMAIN.test(name) || name.length > 253)) {
            r.problem(
                "storageClassesWithoutData",
                `${q(name)} is not a StorageClass name (a DNS subdomain: lowercase letters, digits, "-" and "."; or ${q(NO_STORAGE_CLASS)} for volumes of no class). Fix: correct it in Pulumi.${r.stack}.yaml, as \`kubectl get storageclass\` names it.`,
            );
        } else if (seen.has(name)) {
            r.problem("storageClassesWithoutData", `names ${q(name)} twice. Fix: keep one entry per class.`);
        }
        seen.add(name);
    }
    return { acknowledged: [...new Set(acknowledged)] };
}
