'use strict';

/*
 * serverless-pywhisk: what a serverless.yml written for AWS Lambda says that
 * serverless-openwhisk does not carry, carried to pywhisk. List it after serverless-openwhisk:
 *
 *   plugins:
 *     - serverless-openwhisk
 *     - ./serverless-pywhisk
 *
 * - `runtime: provided` (also provided.al2, provided.al2023): serverless-openwhisk stops at
 *   it ("This runtime is not currently supported"). Such functions are set aside before it
 *   compiles and become actions of kind `provided` (the service's zip, `--main` = handler).
 * - `layers:` at the top: each, as the framework zipped it from its `path`, is written as a
 *   pywhisk layer before the functions are deployed (`allowedAccounts: ['*']` shares it), and removed with
 *   the service. A function's `layers:` ({Ref: PhpLambdaLayer}, a name, or an ARN ending in
 *   :layer:NAME:VERSION) become its `layers` annotation, in order.
 * - `environment:` (the provider's and the function's): init parameters, which pywhisk sets
 *   in the process environment of any kind of action, and not in the arguments.
 * - `memorySize:` where `memory:` is not given.
 * - feeds: serverless-openwhisk 0.18 creates a feed's trigger and then never binds the feed
 *   (deployTriggers blanks each trigger's `feed` before deployFeeds reads it: its issue #195),
 *   so no schedule would ever fire. The feeds it left unbound are bound after its deploy, and
 *   a schedule's alarm is unbound before `sls remove` deletes its trigger.
 * - `schedule:` with an AWS expression (`cron()` with six fields, or `rate()`), which
 *   serverless-openwhisk refuses: an alarm trigger whose cron is that expression, named by
 *   the schedule's `name` (as serverless-openwhisk's remove expects), with `input` as its
 *   payload, and a rule to the function.
 */

const fs = require('fs');
const path = require('path');

const PROVIDED = /^provided(\.al2|\.al2023)?$/;
const ALARM_FEED = '/whisk.system/alarms/alarm';

// Serverless' logical id of a layer (`php` -> PhpLambdaLayer), what {Ref: …} names.
const layerLogicalId = (name) => {
  const normal = name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normal.charAt(0).toUpperCase()}${normal.slice(1)}LambdaLayer`;
};

const isAwsSchedule = (expression) =>
  typeof expression === 'string' &&
  (/^rate\(.*\)$/.test(expression.trim()) ||
    (/^cron\((.*)\)$/.test(expression.trim()) &&
      expression.trim().slice(5, -1).trim().split(/\s+/).length === 6));

class PywhiskLambda {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    this.setAside = {};
    // The framework reads `layers:` (and packages them) for the aws provider only.
    try {
      serverless.configSchemaHandler.defineTopLevelProperty('layers', { type: 'object' });
    } catch (err) {
      // defined already (by a newer provider plugin): nothing to add
    }
    this.adoptLayers();
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.adoptLayers(),
      'before:package:compileFunctions': () => this.setAsideProvided(),
      'after:package:compileFunctions': () => this.compileLambdaSettings(),
      'before:deploy:deploy': () => this.deployLayers().then(() => this.rememberFeeds()),
      'after:deploy:deploy': () => this.bindLostFeeds(),
      'before:remove:remove': () => this.unbindScheduleFeeds(),
      'after:remove:remove': () => this.removeLayers(),
    };
  }

  adoptLayers() {
    const configured = (this.serverless.configurationInput || {}).layers;
    if (configured && !Object.keys(this.service.layers || {}).length) {
      this.service.layers = configured; // so the framework zips each from its path
    }
  }

  get service() {
    return this.serverless.service;
  }

  fail(message) {
    throw new this.serverless.classes.Error(message);
  }

  runtimeOf(fn) {
    return fn.runtime || this.service.provider.runtime || '';
  }

  setAsideProvided() {
    for (const name of this.service.getAllFunctions()) {
      const fn = this.service.getFunction(name);
      if (fn.handler && PROVIDED.test(this.runtimeOf(fn))) {
        this.setAside[name] = fn;
        delete this.service.functions[name];
      }
    }
  }

  compileLambdaSettings() {
    for (const [name, fn] of Object.entries(this.setAside)) {
      this.service.functions[name] = fn;
      this.service.actions[name] = this.compileProvided(name, fn);
    }
    this.setAside = {};
    const provider = this.service.provider;
    for (const name of this.service.getAllFunctions()) {
      const fn = this.service.getFunction(name);
      const compiled = this.service.actions[name];
      if (!compiled || !compiled.action) continue; // a sequence
      const action = compiled.action;

      const environment = { ...(provider.environment || {}), ...(fn.environment || {}) };
      const keys = Object.keys(environment);
      if (keys.length) {
        action.parameters = (action.parameters || [])
          .filter((p) => !keys.includes(p.key))
          .concat(keys.map((key) => ({ key, value: String(environment[key]), init: true })));
      }

      const layers = fn.layers || provider.layers;
      if (Array.isArray(layers) && layers.length) {
        const names = layers.map((layer) => this.layerName(layer, name));
        action.annotations = (action.annotations || [])
          .filter((a) => a.key !== 'layers')
          .concat([{ key: 'layers', value: names }]);
      }

      const memorySize = fn.memorySize || provider.memorySize;
      if (memorySize && !fn.memory && !provider.memory) {
        action.limits = { ...(action.limits || {}), memory: memorySize };
      }

      this.compileAwsSchedules(name, fn);
    }
  }

  compileProvided(name, fn) {
    const provider = this.service.provider;
    const artifact = this.service.package.individually
      ? fn.package && fn.package.artifact
      : this.service.package.artifact;
    if (!artifact || !fs.existsSync(artifact)) {
      this.fail(`The package of function ${name} was not found (${artifact}).`);
    }
    const overwrite = [fn.overwrite, provider.overwrite, true].find((v) => v !== undefined);
    return {
      actionName: fn.name || `${this.service.service}_${name}`,
      namespace: fn.namespace || provider.namespace,
      overwrite,
      action: {
        exec: {
          kind: 'provided',
          main: fn.handler,
          binary: true,
          code: fs.readFileSync(artifact).toString('base64'),
        },
        limits: {
          timeout: (fn.timeout || provider.timeout || 60) * 1000,
          memory: fn.memory || provider.memory || 256,
          concurrency: fn.concurrency || provider.concurrency || 1,
        },
        parameters: Object.entries(fn.parameters || {}).map(([key, value]) => ({ key, value })),
        annotations: Object.entries(fn.annotations || {}).map(([key, value]) => ({ key, value })),
      },
    };
  }

  layerName(layer, functionName) {
    const declared = Object.keys(this.service.layers || {});
    if (layer && typeof layer === 'object' && typeof layer.Ref === 'string') {
      const found = declared.find((n) => layerLogicalId(n) === layer.Ref);
      if (!found) {
        this.fail(`Function ${functionName}: {Ref: ${layer.Ref}} names no layer of this service.`);
      }
      return found;
    }
    if (typeof layer === 'string') {
      const arn = layer.match(/^arn:[^:]*:lambda:[^:]*:[^:]*:layer:([^:]+)(:\d+)?$/);
      return arn ? arn[1] : layer;
    }
    return this.fail(`Function ${functionName}: a layer is a name, an ARN or {Ref: …}.`);
  }

  compileAwsSchedules(name, fn) {
    const events = fn.events || [];
    events.forEach((event, index) => {
      if (!event || !event.schedule) return;
      const schedule = typeof event.schedule === 'string' ? { rate: event.schedule } : event.schedule;
      const expression = schedule.rate;
      if (!isAwsSchedule(expression)) return; // serverless-openwhisk's own five-field cron
      const trigger =
        schedule.name || schedule.trigger || `${this.service.service}_${name}_schedule_trigger`;
      const rule = schedule.rule || `${this.service.service}_${name}_schedule_rule`;
      const parameters = {
        cron: expression.trim(),
        // An object, as Lambda's `input` is the event (a string would arrive as {payload}).
        trigger_payload: schedule.input || schedule.params || {},
      };
      if (schedule.max) parameters.maxTriggers = schedule.max;
      this.service.resources = this.service.resources || {};
      this.service.resources.triggers = this.service.resources.triggers || {};
      this.service.resources.triggers[trigger] = { feed: ALARM_FEED, feed_parameters: parameters };
      events[index] = { trigger: { name: trigger, rule } };
    });
  }

  async client() {
    const ow = await this.serverless.getProvider('openwhisk').client();
    return ow.actions.client; // the REST client, for the layers resource beside actions
  }

  async deployLayers() {
    const layers = this.service.layers || {};
    const names = Object.keys(layers);
    if (!names.length) return;
    const client = await this.client();
    for (const name of names) {
      const layer = layers[name] || {};
      // The framework zipped the layer's path while packaging, modes kept, as for Lambda.
      const packaged = layer.package && layer.package.artifact;
      const artifact = packaged && path.resolve(this.serverless.serviceDir, packaged);
      if (!artifact || !fs.existsSync(artifact)) {
        this.fail(`Layer ${name}: its package was not found (${packaged}).`);
      }
      const code = fs.readFileSync(artifact);
      const publish = (layer.allowedAccounts || []).includes('*');
      this.serverless.cli.log(`Deploying Layer: ${name}`);
      try {
        await client.request('PUT', `namespaces/_/layers/${encodeURIComponent(name)}`, {
          qs: { overwrite: true },
          body: { code: code.toString('base64'), publish },
        });
      } catch (err) {
        this.fail(`Failed to deploy layer (${name}) due to error: ${err.message}`);
      }
    }
  }

  rememberFeeds() {
    const triggers = this.service.triggers || {};
    this.feeds = Object.keys(triggers)
      .filter((name) => triggers[name] && triggers[name].feed)
      .map((name) => ({ name, feed: { ...triggers[name].feed } }));
  }

  async bindLostFeeds() {
    const triggers = this.service.triggers || {};
    const lost = (this.feeds || []).filter(({ name }) => triggers[name] && !triggers[name].feed);
    if (!lost.length) return;
    const ow = await this.serverless.getProvider('openwhisk').client();
    this.serverless.cli.log('Binding Feeds To Triggers...');
    for (const { name, feed } of lost) {
      // The trigger by its name alone: the client puts it in the caller's namespace.
      const bound = { ...feed, trigger: name };
      await ow.feeds.delete(bound).catch(() => undefined); // a feed left by an earlier deploy
      try {
        await ow.feeds.create(bound);
      } catch (err) {
        this.fail(`Failed to deploy feed (${feed.feedName}) due to error: ${err.message}`);
      }
    }
  }

  async unbindScheduleFeeds() {
    const names = [];
    for (const name of this.service.getAllFunctions()) {
      for (const event of this.service.getFunction(name).events || []) {
        if (!event || !event.schedule) continue;
        const schedule = typeof event.schedule === 'string' ? {} : event.schedule;
        names.push(schedule.name || `${this.service.service}_${name}_schedule_trigger`);
      }
    }
    if (!names.length) return;
    const ow = await this.serverless.getProvider('openwhisk').client();
    const [namespace, ...feedName] = ALARM_FEED.split('/').filter(Boolean);
    for (const trigger of names) {
      const feed = { trigger, namespace, feedName: feedName.join('/') };
      await ow.feeds.delete(feed).catch(() => undefined); // already gone: nothing to end
    }
  }

  async removeLayers() {
    const names = Object.keys(this.service.layers || {});
    if (!names.length) return;
    const client = await this.client();
    for (const name of names) {
      this.serverless.cli.log(`Removing Layer: ${name}`);
      try {
        await client.request('DELETE', `namespaces/_/layers/${encodeURIComponent(name)}`);
      } catch (err) {
        if (err.statusCode !== 404) {
          this.fail(`Failed to remove layer (${name}) due to error: ${err.message}`);
        }
      }
    }
  }
}

module.exports = PywhiskLambda;
