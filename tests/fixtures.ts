/** Shared test inputs: the secrets a real stack would hold, and prod's outputs as a drill reads them. */
import type { RawConfig, RawValue } from "../components/config";
import { KubeObject, SimulatedBackup, defaultBackup } from "../engine/cluster";

export { PROD_OUTPUTS, STACK_REFERENCES, STACK_SECRETS } from "../engine/stacks";

/** A recover stack's config on top of Pulumi.yaml defaults (no stack file). */
export const RECOVER_CONFIG = {
    mode: "recover",
    clusterName: "prod-eu-2",
    sourceStack: "acme/gitops-dr/prod",
    restoreId: "2026-11-25",
    kubeContext: "prod-eu-2",
    gitRepoUrl: "https://github.com/acme/platform-gitops.git",
    oidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/AAAA",
} as const;

/** Parses a registered JSON policy input. */
export function policyOf(value: unknown): {
    Statement: {
        Sid: string;
        Effect: string;
        Action: string | string[];
        Resource?: string | string[];
        Condition?: Record<string, Record<string, unknown>>;
    }[];
} {
    if (typeof value !== "string") {
        throw new Error(`expected a JSON policy string, got ${typeof value}`);
    }
    return JSON.parse(value) as ReturnType<typeof policyOf>;
}

/** A backup in the simulated bucket, of the default source's objects, with the name and phase a test needs. */
export function backupNamed(
    name: string,
    options: { schedule?: string; phase?: string; startTimestamp?: string } = {},
): SimulatedBackup {
    const schedule = options.schedule ?? "prod-eu-1-daily";
    const base = defaultBackup(schedule, options.startTimestamp ?? "2026-11-20T02:00:00Z");
    return { ...base, name, phase: options.phase ?? "Completed" };
}

/** A live claim in the target cluster, as a StatefulSet or an earlier restore left it. */
export function liveClaim(namespace: string, name: string, extra: Record<string, unknown> = {}): KubeObject {
    return {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name, namespace, ...((extra.metadata as object | undefined) ?? {}) },
        spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "gp3",
            ...((extra.spec as object | undefined) ?? {}),
        },
        status: (extra.status as object | undefined) ?? { phase: "Bound" },
    };
}

/** A plain config value, as `pulumi config set` stores it. */
export const plain = (value: string): RawValue => ({ value, secret: false });
/** A secret config value, as `pulumi config set --secret` stores it. */
export const secret = (value: string): RawValue => ({ value, secret: true });

/** A minimal compliant protect stack's raw config (the vault created here, IRSA), for config-rule tests. */
export const PROTECT_RAW: RawConfig = {
    mode: plain("protect"),
    clusterName: plain("prod-eu-1"),
    region: plain("eu-west-1"),
    bucketName: plain("acme-velero-vault"),
    oidcProviderArn: plain(
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF",
    ),
    repoPassword: secret("kopia-repo-password-0123456789"),
    gitRepoUrl: plain("https://github.com/acme/platform-gitops.git"),
    breakGlassPrincipalArns: plain(JSON.stringify(["arn:aws:iam::111122223333:role/vault-break-glass"])),
};
