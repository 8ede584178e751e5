/** asl-validator 4 ships JavaScript only: the part of its API the specs use. */
declare module "asl-validator" {
  interface Verdict {
    readonly isValid: boolean;
    readonly errors: readonly { readonly message: string }[];
    errorsText(separator?: string): string;
  }
  function aslValidator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): Verdict;
  export = aslValidator;
}
