/** Shared test inputs: the secrets a real stack would hold, and prod's outputs as a drill reads them. */
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
