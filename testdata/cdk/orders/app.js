// A small CDK app for iamlint's CDK fixtures. cdk.out beside it is what `npx cdk synth` wrote
// (aws-cdk-lib 2.278.0, aws-cdk CLI 2.1149.0), unedited; to regenerate: npm install aws-cdk-lib
// constructs aws-cdk, then `npx cdk synth` here.
const cdk = require('aws-cdk-lib');
const iam = require('aws-cdk-lib/aws-iam');
const lambda = require('aws-cdk-lib/aws-lambda');
const s3 = require('aws-cdk-lib/aws-s3');
const sqs = require('aws-cdk-lib/aws-sqs');
const dynamodb = require('aws-cdk-lib/aws-dynamodb');
const { SqsEventSource } = require('aws-cdk-lib/aws-lambda-event-sources');

class StorageStack extends cdk.NestedStack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const table = new dynamodb.Table(this, 'Orders', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    table.addGlobalSecondaryIndex({
      indexName: 'byCustomer',
      partitionKey: { name: 'customer', type: dynamodb.AttributeType.STRING },
    });
    const reader = new lambda.Function(this, 'Reader', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset('lambda'),
      environment: { TABLE: table.tableName },
    });
    // Query on the table, not its indexes: IAM017.
    reader.addToRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [table.tableArn],
    }));
  }
}

class OrdersStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const bucket = new s3.Bucket(this, 'Receipts');
    const handler = new lambda.Function(this, 'Handler', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset('lambda'),
      environment: { BUCKET: bucket.bucketName },
    });
    bucket.grantRead(handler);
    // A secret's ARN written from its name, without the random suffix: IAM012.
    handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [this.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: 'orders/db',
        arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
      })],
    }));
    new StorageStack(this, 'Storage');
  }
}

class WorkerStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const queue = new sqs.Queue(this, 'Jobs');
    const worker = new lambda.Function(this, 'Worker', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset('lambda'),
    });
    worker.addEventSource(new SqsEventSource(queue));
  }
}

// A stage, as CDK Pipelines deploys it: synthesised into its own nested assembly.
class ProdStage extends cdk.Stage {
  constructor(scope, id, props) {
    super(scope, id, props);
    new WorkerStack(this, 'Worker');
  }
}

const app = new cdk.App();
new OrdersStack(app, 'OrdersStack');
new ProdStage(app, 'Prod');
app.synth();
