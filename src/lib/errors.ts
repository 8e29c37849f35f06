/**
 * One error type for the whole service (STYLE 6). Each error has a stable machine code
 * (`purchase.not_payable`), an HTTP status, and optional field errors; the HTTP layer turns it into
 * RFC 7807 problem+json in one place. Expected outcomes (a declined card) are results, not errors.
 */
export interface FieldError {
  /** Where the problem is: `body.purchase_lines[0].quantity`, `query.userId`. */
  name: string;
  reason: string;
}

export interface AppErrorOptions {
  retryable?: boolean;
  context?: Record<string, unknown>;
  cause?: unknown;
  errors?: FieldError[];
  /** Members added to the problem+json body: only what the caller may see (ids of their own records). */
  extensions?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly retryable: boolean;
  readonly context: Record<string, unknown>;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
    this.errors = options.errors;
    this.extensions = options.extensions;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, errors: FieldError[] = [], options: AppErrorOptions = {}) {
    super(400, 'request.invalid', message, { ...options, errors });
  }
}

export class UnauthorizedError extends AppError {
  constructor(reason: string) {
    super(401, 'auth.unauthorized', reason);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string, code = 'auth.forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id?: string) {
    super(404, `${what}.not_found`, id === undefined ? `No such ${what.replaceAll('_', ' ')}.` : `No ${what.replaceAll('_', ' ')} with id ${id}.`);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(409, code, message, options);
  }
}

/**
 * A client-chosen id that is taken. Ids are unique across operators, so this is said the same way
 * whether the id is the caller's own or another operator's: the answer is no oracle for what exists
 * elsewhere (README, "Client-chosen ids").
 */
export class IdTakenError extends ConflictError {
  constructor(what: string, id: string) {
    super(`${what}.exists`, `A ${what.replaceAll('_', ' ')} with id ${id} already exists.`);
  }
}

/** Well-formed but not acceptable: a tampered price, an unpayable purchase, a medium of someone else. */
export class UnprocessableError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(422, code, message, options);
  }
}

export type ConnectorErrorKind = 'declined' | 'unavailable' | 'timeout' | 'misconfigured' | 'protocol';

/** A provider could not be used. `timeout` means the outcome is unknown, never that it failed. */
export class ConnectorError extends AppError {
  constructor(
    readonly kind: ConnectorErrorKind,
    readonly provider: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(kind === 'declined' ? 422 : 503, `provider.${kind}`, message, {
      ...options,
      retryable: kind === 'unavailable' || kind === 'timeout',
    });
  }
}
