/** The AWS account of every simulated resource and caller. */
export const ACCOUNT = "111122223333";
