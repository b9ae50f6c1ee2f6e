/**
 * One rule line as the config loader splits it: `TYPE,PAYLOAD,TARGET,param…`. For MATCH the
 * payload is ''; for AND/OR/NOT it is the parenthesised text, commas and all.
 */
export interface RuleLineInput {
  /** the line as written, for messages */
  readonly raw: string;
  /** upper case */
  readonly type: string;
  readonly payload: string;
  readonly target: string;
  /** modifiers after the target: `no-resolve`, `src` */
  readonly params: readonly string[];
}
