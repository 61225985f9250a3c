import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Throttle } from 'nest-rampart';

/**
 * A WebSocket gateway at ws://<host>/chat (the `ws` adapter, see main.ts). Its messages are counted
 * by the module's rules and by a `chat` rule of its own; the module's `websockets` option limits each
 * client's connections.
 */
@WebSocketGateway({ path: '/chat' })
@Throttle({ name: 'chat', limit: 5, windowMs: 10_000 })
export class ChatGateway {
  @SubscribeMessage('message')
  message(@MessageBody() text: unknown) {
    return { event: 'message', data: text };
  }
}
