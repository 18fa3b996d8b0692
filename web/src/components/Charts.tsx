import { Paper, SimpleGrid, Text } from '@mantine/core';
import {
  ResponsiveContainer,
  BarChart,
  Bar,
  XAxis,
  YAxis,
  Tooltip,
  CartesianGrid,
  LineChart,
  Line,
  PieChart,
  Pie,
  Cell,
  Legend,
} from 'recharts';
import { useI18n } from '../i18n';
import type { DayPoint, ModelPoint } from '../dashboard';

const COLORS = ['#228be6', '#40c057', '#fab005', '#fa5252', '#7950f2', '#15aabf', '#fd7e14', '#e64980', '#82c91e', '#868e96'];

function Card({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md">
      <Text fw={600} mb="sm">
        {title}
      </Text>
      <div style={{ width: '100%', height: 260 }}>{children}</div>
    </Paper>
  );
}

interface Props {
  days: DayPoint[];
  models: ModelPoint[];
  fmtQuota: (q: number) => string;
}

/** Charts draws usage per day and per model. */
export default function Charts({ days, models, fmtQuota }: Props) {
  const { t } = useI18n();
  const top = models.slice(0, 10);
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <Card title={t('Requests per day')}>
        <ResponsiveContainer>
          <BarChart data={days}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" fontSize={12} />
            <YAxis allowDecimals={false} fontSize={12} width={48} />
            <Tooltip />
            <Bar dataKey="requests" name={t('Requests')} fill="#228be6" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </Card>
      <Card title={t('Tokens per day')}>
        <ResponsiveContainer>
          <LineChart data={days}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" fontSize={12} />
            <YAxis fontSize={12} width={60} />
            <Tooltip />
            <Line type="monotone" dataKey="tokens" name={t('Tokens')} stroke="#40c057" strokeWidth={2} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </Card>
      <Card title={t('Requests per model')}>
        <ResponsiveContainer>
          <BarChart data={top} layout="vertical" margin={{ left: 24 }}>
            <CartesianGrid strokeDasharray="3 3" horizontal={false} />
            <XAxis type="number" allowDecimals={false} fontSize={12} />
            <YAxis type="category" dataKey="model" fontSize={12} width={120} />
            <Tooltip />
            <Bar dataKey="requests" name={t('Requests')} fill="#7950f2" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </Card>
      <Card title={t('Quota per model')}>
        <ResponsiveContainer>
          <PieChart>
            <Pie data={top} dataKey="quota" nameKey="model" outerRadius={90} isAnimationActive={false}>
              {top.map((m, i) => (
                <Cell key={m.model} fill={COLORS[i % COLORS.length]} />
              ))}
            </Pie>
            <Tooltip formatter={(v: number) => fmtQuota(v)} />
            <Legend />
          </PieChart>
        </ResponsiveContainer>
      </Card>
    </SimpleGrid>
  );
}
