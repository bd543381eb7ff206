import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { T } from "../lib/types";
import { show } from "../lib/values";
import {
    SKIP_AWAIT_ANNOTATION,
    WAIT_FOR_ANNOTATION,
    annotation,
    awaitsEnd,
    awaitsSync,
    releasesOf,
    restores,
    skipsAwait,
} from "../lib/velero";

/**
 * The Restore of a recovery or drill comes after the sync barrier and is awaited to its end (DESIGN §1): a
 * Restore created before its backup is synced fails validation for good, and what follows the restore must
 * not start while it runs. The barrier is either a Job (Pulumi waits for a Job to complete) that checks the
 * source location and the backup, or the source BackupStorageLocation itself, awaited until it is Available
 * and has synced.
 */
export const veleroRestoreAfterSyncBarrier: StackValidationPolicy = {
    name: "velero-restore-after-sync-barrier",
    description:
        "Checks that a recover or drill stack has a Restore that waits for Velero and for the sync barrier (a backup-check Job or the awaited source location) and is awaited until it has ended.",
    enforcementLevel: "mandatory",
    validateStack: inModes(["recover", "drill"], ({ view, mode }, report) => {
        const found = restores(view);
        if (found.length === 0) {
            report(
                violation(
                    `A ${mode} stack must restore the backups with a Restore that waits for the backup sync and is awaited until it has ended.`,
                    `no Restore in this ${mode} stack`,
                    "Register the restore sequence (gitops-dr does in recover and drill mode): the sync barrier, then a velero.io/v1 Restore depending on it.",
                ),
            );
            return;
        }
        const velero = releasesOf(view, "velero");
        const barrierMust =
            "A Restore must wait for the sync barrier: a backup-check Job, or the source BackupStorageLocation awaited until it is Available and synced. A Restore created before its backup is synced fails validation and is never retried.";
        for (const restore of found) {
            const jobs = view.ofType(T.job).filter((j) => view.dependsOn(restore, j));
            const locations = view.ofType(T.backupStorageLocation).filter((l) => view.dependsOn(restore, l));
            if (!jobs.some((j) => !skipsAwait(j)) && !locations.some(awaitsSync)) {
                if (jobs.length > 0) {
                    report(
                        violation(
                            barrierMust,
                            `${label(restore)} waits for ${jobs.map(label).join(", ")}, annotated ${SKIP_AWAIT_ANNOTATION}: "true", so Pulumi does not wait for it to complete`,
                            `Remove the ${SKIP_AWAIT_ANNOTATION} annotation from the Job.`,
                        ),
                        restore.urn,
                    );
                } else if (locations.length > 0) {
                    report(
                        violation(
                            barrierMust,
                            `${label(restore)} waits for ${locations.map((l) => `${label(l)} (${WAIT_FOR_ANNOTATION} ${show(annotation(l, WAIT_FOR_ANNOTATION))})`).join(", ")}, which is not awaited until Available and synced`,
                            `Annotate the location ${WAIT_FOR_ANNOTATION}: '["jsonpath={.status.phase}=Available", "jsonpath={.status.lastSyncedTime}"]'.`,
                        ),
                        restore.urn,
                    );
                } else {
                    report(
                        violation(
                            barrierMust,
                            `${label(restore)} depends on neither`,
                            "Make the Restore depend on the backup-check Job or on the awaited source BackupStorageLocation (dependsOn).",
                        ),
                        restore.urn,
                    );
                }
            }
            for (const release of velero) {
                if (!view.dependsOn(restore, release)) {
                    report(
                        violation(
                            "A Restore must wait for Velero's Helm release, which installs its CRDs and server.",
                            `${label(restore)} does not depend on ${label(release)}`,
                            "Make the Restore, or the sync barrier it depends on, depend on the Velero release.",
                        ),
                        restore.urn,
                    );
                }
            }
            if (!awaitsEnd(restore)) {
                const waitFor = annotation(restore, WAIT_FOR_ANNOTATION);
                report(
                    violation(
                        "A Restore must be awaited until it has ended, so that what follows starts after the restore: pulumi.com/waitFor on Completed, or on the terminal phases with the phase checked before anything depends on the restore.",
                        skipsAwait(restore)
                            ? `${label(restore)} is annotated ${SKIP_AWAIT_ANNOTATION}: "true"`
                            : `${label(restore)} has ${WAIT_FOR_ANNOTATION} ${waitFor === undefined ? "unset" : show(waitFor)}`,
                        `Annotate it ${WAIT_FOR_ANNOTATION}: "jsonpath={.status.phase}=Completed", or wait for every terminal phase (Completed, PartiallyFailed, Failed, FailedValidation) and check the phase; and no ${SKIP_AWAIT_ANNOTATION}.`,
                    ),
                    restore.urn,
                );
            }
        }
    }),
};
