"""The admin Customer Insights pages, one module per dashboard section.

`views` (the pages and their URLs in `urls`), `params` (the querystring), `core` (the revenue
sections' presenter), `lifecycle`, `value`, `health`, `forecast`, `owners` (Team and My sales),
`service`, `xlsx` (the workbook), `drilldown` (where a chart element leads) and `customer360`
(the 360° page's reads). The engine never imports this package (pyproject's import contracts).
"""
