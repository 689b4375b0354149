"""Party members and volunteers (issue 13 item 2): the Party organisation as map layers, volunteer
teams and volunteers, tasks handed to teams (任务发布), hours and points, spreadsheet imports.

Pure rules live in :mod:`gridmap.volunteers.rules` (who may see what, masking, the task steps,
points) and :mod:`gridmap.volunteers.spreadsheet` (reading and checking an import); ``services/``
own the transactions and the scope checks, ``repositories/`` the SQL (long statements in
``sql/``), ``web/`` the JSON API and the pages.
"""
