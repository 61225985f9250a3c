import { HttpException, StreamableFile, type ExecutionContext } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { RampartLogger } from '../core/logger.js';
import { isObject } from '../core/option-objects.js';
import { describe } from '../errors/describe.js';
import * as identityMessages from '../errors/identity-messages.js';
import * as messages from '../errors/messages.js';
import { setHeader } from '../http-exchange.js';
import { PROBLEM_CONTENT_TYPE } from '../rate-limit.constants.js';
import type { DenialResponse, IdentityErrorResponse } from './custom-response.interface.js';

/** The options that give the app's own responses. */
export type CustomResponseOption = 'denialResponse' | 'identityErrorResponse';

/** The custom response options as the guard keeps them. */
export interface CustomResponsesConfig {
  readonly denialResponse?: DenialResponse;
  readonly identityErrorResponse?: IdentityErrorResponse;
}

/** Checks the custom response options at startup; problems appended. */
export function checkCustomResponses(options: { readonly [K in CustomResponseOption]?: unknown }, problems: string[]): CustomResponsesConfig {
  const config: { -readonly [K in CustomResponseOption]?: unknown } = {};
  for (const option of ['denialResponse', 'identityErrorResponse'] as const) {
    const given = options[option];
    if (typeof given === 'function') config[option] = given;
    else if (given !== undefined) problems.push(messages.notAFunction(option, given));
  }
  return config as CustomResponsesConfig;
}

/** Headers a custom response may not set: Rampart's rate-limit headers, and the body's framing. */
const RESERVED_HEADERS = new Set([
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'content-length',
  'transfer-encoding',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node accepts in a header value: no line breaks or other control characters but tab. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TEXT = 'text/plain; charset=utf-8';

/** A custom response, checked: what the exception carries, and the headers set before it is thrown. */
interface Answer {
  readonly status: number;
  readonly body: object;
  readonly headers: readonly (readonly [string, string])[];
}

/** What is wrong with a custom response: a kind (each is logged once) and its description. */
type Mistake = readonly ['shape' | 'status' | 'headers' | 'body', string];

/**
 * The answers to refused HTTP requests: the default problem details (`application/problem+json`), or
 * the app's own response (`denialResponse`, `identityErrorResponse`). A custom response that is
 * invalid, or a callback that throws, gets the default one: a refused request is never admitted and
 * never a 500. Each kind of mistake is logged once.
 */
export class RefusalResponses {
  private readonly reported = new Set<string>();

  constructor(private readonly logger: RampartLogger) {}

  /**
   * Throws the refusal of a request: the response `custom` gives (when there is one and it is
   * valid), else `fallback`. Rampart's headers on the response (`Retry-After`, `RateLimit`...) stay.
   */
  refuse(context: ExecutionContext, fallback: HttpException, option: CustomResponseOption, custom?: () => unknown): never {
    const response = context.getArgByIndex<unknown>(1);
    const answer = custom === undefined ? undefined : this.answer(option, custom, fallback);
    if (answer === undefined) {
      // Set by the default answers only: an override of a guard hook that throws its own exception
      // keeps the app's usual content type. Both adapters keep a JSON-like type they find set.
      setHeader(response, 'Content-Type', PROBLEM_CONTENT_TYPE);
      throw fallback;
    }
    for (const [name, value] of answer.headers) setHeader(response, name, value);
    throw new HttpException(answer.body, answer.status);
  }

  private answer(option: CustomResponseOption, custom: () => unknown, fallback: HttpException): Answer | undefined {
    let given: unknown;
    try {
      given = custom();
    } catch (error) {
      this.report(`${option}:threw`, identityMessages.customResponseThrew(option, error));
      return undefined;
    }
    if (given === undefined) return undefined;
    let answer: Answer | Mistake;
    try {
      answer = checkAnswer(given, fallback);
    } catch (error) {
      // An answer whose properties throw when read (a getter, a Proxy): the default response.
      answer = ['shape', `an answer that throws when read (${error instanceof Error ? error.message : String(error)})`];
    }
    if (Array.isArray(answer)) {
      const [kind, problem] = answer as Mistake;
      this.report(`${option}:${kind}`, identityMessages.badCustomResponse(option, problem));
      return undefined;
    }
    return answer as Answer;
  }

  private report(key: string, text: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.logger.error(text);
  }
}

/** A custom response as it is sent, or what is wrong with it. */
function checkAnswer(given: unknown, fallback: HttpException): Answer | Mistake {
  if (!isObject(given)) return ['shape', `${describe(given)}: return { status?, body?, headers? }, or undefined for the default response`];
  const unknown = Object.keys(given).filter((field) => field !== 'status' && field !== 'body' && field !== 'headers');
  if (unknown.length > 0) return ['shape', `the fields ${unknown.join(', ')}: a response has status, body and headers`];
  const status = given['status'] ?? fallback.getStatus();
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
    return ['status', `the status ${describe(status)}: a refused request takes a status of 400 to 599 (any other would look admitted)`];
  }
  const headers: [string, string][] = [];
  const givenHeaders = given['headers'];
  if (givenHeaders !== undefined) {
    if (!isObject(givenHeaders)) return ['headers', `headers that are ${describe(givenHeaders)}: give an object of header names to values`];
    for (const [name, value] of Object.entries(givenHeaders)) {
      if (value === undefined) continue;
      if (!TOKEN.test(name) || typeof value !== 'string' || !FIELD_VALUE.test(value)) {
        return ['headers', `the header ${JSON.stringify(name)}: a header's value is a string without line breaks, its name a token`];
      }
      if (RESERVED_HEADERS.has(name.toLowerCase()))
        return ['headers', `the header ${name}: Rampart sets it (the rate-limit headers, Retry-After and the framing are its own)`];
      headers.push([name, value]);
    }
  }
  const typed = headers.some(([name]) => name.toLowerCase() === 'content-type');
  const body = given['body'];
  if (body === undefined) {
    const problem = fallback.getResponse() as Record<string, unknown>;
    if (!typed) headers.push(['Content-Type', PROBLEM_CONTENT_TYPE]);
    return { status, headers, body: status === fallback.getStatus() ? problem : { ...problem, title: STATUS_CODES[status] ?? 'Error', status } };
  }
  if (typeof body === 'string') {
    const bytes = Buffer.from(body);
    if (!typed) headers.push(['Content-Type', TEXT]);
    return { status, headers, body: new StreamableFile(bytes, { type: TEXT, length: bytes.length }) };
  }
  if (typeof body !== 'object' || body === null) return ['body', `a body that is ${describe(body)}: send a string, an object or an array`];
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch {
    json = undefined;
  }
  if (json === undefined) return ['body', 'a body that cannot be written as JSON (a cycle, a BigInt): send plain data'];
  return { status, headers, body };
}
