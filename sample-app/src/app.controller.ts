import { Controller, Get } from '@nestjs/common';

/** Limited by the module's default rule only. */
@Controller()
export class AppController {
  @Get()
  hello() {
    return { message: 'Hello from the nest-rampart sample app' };
  }
}
