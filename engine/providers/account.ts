/** The AWS account of every simulated resource and caller, unless its provider assumes a role in another. */
export const ACCOUNT = "111122223333";

/** Accounts of the aws providers that assume a role, by provider name (a role's ARN names its account). */
const assumedAccounts = new Map<string, string>();

/**
 * Records the account an aws provider acts in: the account of its first `assumeRoles` entry (which @pulumi/aws
 * sends JSON-encoded, `provider.js`), else {@link ACCOUNT}.
 */
export function registerAwsProvider(name: string, inputs: Record<string, unknown>): void {
    let roles: unknown = inputs.assumeRoles;
    if (typeof roles === "string") {
        try {
            roles = JSON.parse(roles);
        } catch {
            roles = undefined;
        }
    }
    const roleArn: unknown = Array.isArray(roles)
        ? (roles[0] as { roleArn?: unknown } | undefined)?.roleArn
        : undefined;
    const account = typeof roleArn === "string" ? roleArn.split(":")[4] : undefined;
    if (account !== undefined && /^\d{12}$/.test(account)) {
        assumedAccounts.set(name, account);
    } else {
        assumedAccounts.delete(name);
    }
}

/** The account a resource or call acts in, from its provider reference (`<provider urn>::<id>`). */
export function accountOf(providerRef: string | undefined): string {
    if (providerRef === undefined || providerRef === "") {
        return ACCOUNT;
    }
    const urn = providerRef.substring(0, providerRef.lastIndexOf("::"));
    const name = urn.substring(urn.lastIndexOf("::") + 2);
    return assumedAccounts.get(name) ?? ACCOUNT;
}
