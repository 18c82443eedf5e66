<?php
// layer/php/bootstrap.php: as in the talk, after akrabat.com/lambdaphp.
require __DIR__ . '/LambdaRuntime.php';

$lambdaRuntime = new LambdaRuntime();

// _HANDLER is the function's --main, "handler.hello": function hello() in handler.php.
[$file, $function] = explode('.', getenv('_HANDLER'), 2);
require getenv('LAMBDA_TASK_ROOT') . "/$file.php";
$handlerFunction = $function;

while (true) {
  // get next event
  $eventPayload = $lambdaRuntime->getEventPayload();

  // execute handler
  $data = $handlerFunction($eventPayload);

  // send result
  $lambdaRuntime->sendResult($data);
}
