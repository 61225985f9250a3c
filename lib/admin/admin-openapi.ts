import { Logger, type Type } from '@nestjs/common';

/**
 * OpenAPI descriptions of the admin API, applied with `@nestjs/swagger` only when the app has it.
 *
 * The DTOs and the controller record their descriptions with `ApiDoc` and `AdminOperation`, which
 * need nothing; `applyOpenApi` turns them into swagger decorators once `loadSwagger` found the
 * package. So the package is an optional peer dependency: without it the admin API works the same
 * and carries no swagger metadata.
 */

/** What `ApiDoc` records for one property: the subset of swagger's `ApiPropertyOptions` used here. */
export interface PropertyDoc {
  readonly description: string;
  readonly required?: boolean;
  readonly type?: Type<unknown> | 'string' | 'integer' | 'number' | 'boolean' | 'object';
  readonly isArray?: boolean;
  readonly enum?: readonly string[];
  readonly format?: string;
  readonly example?: unknown;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** An ECMA-262 regular expression the whole value matches (anchored with `^...$`). */
  readonly pattern?: string;
  readonly nullable?: boolean;
}

/** One documented response of an operation. */
export interface ResponseDoc {
  readonly status: number;
  readonly description: string;
  /** The body's model, served as `application/json`. */
  readonly type?: Type<unknown>;
  /** The body's model by media type (instead of `type`): problem details are `application/problem+json`. */
  readonly content?: Readonly<Record<string, Type<unknown>>>;
}

export interface OperationDoc {
  readonly summary: string;
  readonly description?: string;
  readonly responses: readonly ResponseDoc[];
}

/** The few swagger decorators applied here, as the package exports them. */
export interface SwaggerDecorators {
  ApiProperty(options: object): PropertyDecorator;
  ApiOperation(options: object): MethodDecorator;
  ApiResponse(options: object): MethodDecorator;
  ApiTags(...tags: string[]): ClassDecorator;
  ApiBearerAuth(name?: string): ClassDecorator;
  ApiExtraModels(...models: Type<unknown>[]): ClassDecorator;
  ApiExcludeController(disable?: boolean): ClassDecorator;
  getSchemaPath(model: Type<unknown>): string;
}

/** Documented properties, by the class declaring them (class definitions: filled once, at load). */
const propertyDocs = new Map<Type<unknown>, Map<string, PropertyDoc>>();
/** Documented handlers. */
const operationDocs = new WeakMap<object, OperationDoc>();
/** Classes already given swagger metadata (a class is decorated once, however many apps mount it). */
const decorated = new WeakSet<object>();

/** Records the OpenAPI description of a DTO property. */
export function ApiDoc(doc: PropertyDoc): PropertyDecorator {
  return (prototype, property) => {
    const type = prototype.constructor as Type<unknown>;
    let docs = propertyDocs.get(type);
    if (!docs) propertyDocs.set(type, (docs = new Map()));
    docs.set(String(property), doc);
  };
}

/** Records the OpenAPI description of an admin handler. */
export function AdminOperation(doc: OperationDoc): MethodDecorator {
  return (_prototype, _method, descriptor) => {
    operationDocs.set(descriptor.value as object, doc);
  };
}

/** `@nestjs/swagger` when the app has it installed; null otherwise (or when it fails to load). */
export async function loadSwagger(): Promise<SwaggerDecorators | null> {
  try {
    const swagger = (await import('@nestjs/swagger')) as unknown as Partial<SwaggerDecorators>;
    const names: (keyof SwaggerDecorators)[] = [
      'ApiProperty',
      'ApiOperation',
      'ApiResponse',
      'ApiTags',
      'ApiBearerAuth',
      'ApiExtraModels',
      'ApiExcludeController',
      'getSchemaPath',
    ];
    return names.every((name) => typeof swagger[name] === 'function') ? (swagger as SwaggerDecorators) : null;
  } catch (error) {
    if (!isModuleNotFound(error))
      new Logger('RateLimit').warn(`@nestjs/swagger could not be loaded (${String(error)}); the admin API is not described in OpenAPI documents.`);
    return null;
  }
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Applies swagger's decorators to the admin controller and every documented DTO, from what
 * `ApiDoc` and `AdminOperation` recorded.
 */
export function applyOpenApi(swagger: SwaggerDecorators, controller: Type<unknown>, options: { bearer: boolean }): void {
  for (const type of propertyDocs.keys()) decorateModel(swagger, type);
  if (decorated.has(controller)) return;
  decorated.add(controller);
  swagger.ApiTags('rate-limit admin')(controller);
  if (options.bearer) swagger.ApiBearerAuth()(controller);
  const prototype = controller.prototype as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
    const doc = descriptor && typeof descriptor.value === 'function' ? operationDocs.get(descriptor.value as object) : undefined;
    if (!doc || !descriptor) continue;
    swagger.ApiOperation({ summary: doc.summary, ...(doc.description ? { description: doc.description } : {}) })(prototype, name, descriptor);
    for (const { content, ...response } of doc.responses) {
      if (content) {
        // Models named only here are not reached from any property: list them, so they land in `components`.
        swagger.ApiExtraModels(...Object.values(content))(controller);
        const media = Object.fromEntries(Object.entries(content).map(([type, model]) => [type, { schema: { $ref: swagger.getSchemaPath(model) } }]));
        swagger.ApiResponse({ ...response, content: media })(prototype, name, descriptor);
      } else {
        swagger.ApiResponse({ ...response })(prototype, name, descriptor);
      }
    }
  }
}

/** Decorates a DTO class, its documented ancestors first (swagger copies inherited properties when a subclass is decorated). */
function decorateModel(swagger: SwaggerDecorators, type: Type<unknown>): void {
  if (decorated.has(type)) return;
  const parent = Object.getPrototypeOf(type) as Type<unknown> | null;
  if (parent && propertyDocs.has(parent)) decorateModel(swagger, parent);
  decorated.add(type);
  for (const [property, doc] of propertyDocs.get(type) ?? []) {
    swagger.ApiProperty({ ...doc, ...(doc.enum ? { enum: [...doc.enum] } : {}) })(type.prototype as object, property);
  }
}
