import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { bucketName, buckets, settingsOf } from "../lib/vault";

/** Advice: an off-site replica of the vault. */
export const vaultReplicaMissing: StackValidationPolicy = {
    name: "vault-replica-missing",
    description: "Advises replicating the vault a protect stack creates to a bucket in another region.",
    enforcementLevel: "advisory",
    validateStack: onStack(({ view, mode, args }, report) => {
        if (mode !== "protect") {
            args.notApplicable(`only a protect stack creates the vault; this one is ${mode}`);
        }
        const replications = view.ofType(T.replication);
        // A replica is the destination of some replication: its ARN flows into the configuration's rules.
        const isDestination = (urn: string, name: string | undefined) =>
            replications.some(
                (r) =>
                    (r.propertyDependencies.rules ?? []).includes(urn) ||
                    (name !== undefined && JSON.stringify(r.props.rules ?? []).includes(`:s3:::${name}"`)),
            );
        for (const bucket of buckets(view)) {
            if (isDestination(bucket.urn, bucketName(bucket))) {
                continue;
            }
            if (settingsOf(view, bucket, T.replication).length === 0) {
                report(
                    violation(
                        "The vault should be replicated to a bucket in another region, so that losing the region does not lose the backups.",
                        `no BucketReplicationConfig replicates ${label(bucket)}`,
                        "Set gitops-dr:replicaRegion (and gitops-dr:replicaBucketName if the default <bucketName>-replica does not suit).",
                    ),
                    bucket.urn,
                );
            }
        }
    }),
};
