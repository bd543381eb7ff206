/** Shared test inputs: the secrets a real stack would hold, and prod's outputs as a drill reads them. */

/** Secrets the README tells the operator to set on every stack. */
export const STACK_SECRETS = { repoPassword: "test-repo-password-0123456789" } as const;

/** What `pulumi stack output` of the prod stack gives a recover or drill stack through sourceStack. */
export const PROD_OUTPUTS = {
    bucketName: "acme-gitops-dr-vault",
    region: "eu-west-1",
    kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/prod-vault-key",
    prefix: "prod-eu-1",
    clusterName: "prod-eu-1",
    dailyScheduleName: "prod-eu-1-daily",
} as const;

export const STACK_REFERENCES = { "acme/gitops-dr/prod": PROD_OUTPUTS } as const;

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
