/**
 * Every violation message has the same three parts, so a reader in a CI log knows at once what the rule
 * wants, what the program registered instead, and what to change.
 */

/** `<must> Found: <found>. Fix: <fix>` — `must` and `fix` are full sentences, `found` is not. */
export function violation(must: string, found: string, fix: string): string {
    return `${must} Found: ${found}. Fix: ${fix}`;
}

/** The resource kind of a type token (`aws:s3/bucket:Bucket` → `Bucket`) and its Pulumi name. */
export function label(node: { readonly type: string; readonly name: string }): string {
    return `${node.type.substring(node.type.lastIndexOf(":") + 1)} ${node.name}`;
}
